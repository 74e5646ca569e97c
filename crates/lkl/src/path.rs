// SPDX-License-Identifier: GPL-2.0
//! Path arguments: anything that is a byte string without NUL bytes.

use std::borrow::Cow;
use std::ffi::{CStr, CString, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::errno::{Errno, Result};

/// A path in the kernel's file system namespace. Implemented for string and
/// byte-string types; a path containing a NUL byte fails with
/// [`Errno::INVAL`] before reaching the kernel.
pub trait PathArg {
    /// The path as a NUL-terminated C string.
    fn to_c_path(&self) -> Result<Cow<'_, CStr>>;
}

fn owned(bytes: &[u8]) -> Result<Cow<'static, CStr>> {
    CString::new(bytes)
        .map(Cow::Owned)
        .map_err(|_| Errno::INVAL)
}

impl PathArg for CStr {
    fn to_c_path(&self) -> Result<Cow<'_, CStr>> {
        Ok(Cow::Borrowed(self))
    }
}

impl PathArg for str {
    fn to_c_path(&self) -> Result<Cow<'_, CStr>> {
        owned(self.as_bytes())
    }
}

impl PathArg for [u8] {
    fn to_c_path(&self) -> Result<Cow<'_, CStr>> {
        owned(self)
    }
}

impl PathArg for String {
    fn to_c_path(&self) -> Result<Cow<'_, CStr>> {
        owned(self.as_bytes())
    }
}

impl PathArg for OsStr {
    fn to_c_path(&self) -> Result<Cow<'_, CStr>> {
        owned(self.as_bytes())
    }
}

impl PathArg for Path {
    fn to_c_path(&self) -> Result<Cow<'_, CStr>> {
        owned(self.as_os_str().as_bytes())
    }
}

impl<T: PathArg + ?Sized> PathArg for &T {
    fn to_c_path(&self) -> Result<Cow<'_, CStr>> {
        (**self).to_c_path()
    }
}
