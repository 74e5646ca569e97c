// SPDX-License-Identifier: GPL-2.0
//! Whole extended attribute values and name lists, from the buffer-filling
//! raw calls.

use std::ffi::OsString;
use std::io;
use std::os::unix::ffi::OsStringExt;

use crate::errno::{Errno, Result};

/// Runs a buffer-filling call until the buffer was big enough: asks for
/// the size, then fills; if the value grew in between (`ERANGE`), again.
fn grow(fill: impl Fn(&mut [u8]) -> Result<usize>) -> io::Result<Vec<u8>> {
    loop {
        let size = fill(&mut [])?;
        if size == 0 {
            return Ok(Vec::new());
        }
        let mut buf = vec![0u8; size];
        match fill(&mut buf) {
            Ok(n) => {
                buf.truncate(n);
                return Ok(buf);
            }
            Err(Errno::RANGE) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// The value of one attribute.
pub(crate) fn value(get: impl Fn(&mut [u8]) -> Result<usize>) -> io::Result<Vec<u8>> {
    grow(get)
}

/// The names of the attributes, from the NUL-separated list.
pub(crate) fn names(list: impl Fn(&mut [u8]) -> Result<usize>) -> io::Result<Vec<OsString>> {
    let all = grow(list)?;
    Ok(all
        .split(|&b| b == 0)
        .filter(|name| !name.is_empty())
        .map(|name| OsString::from_vec(name.to_vec()))
        .collect())
}
