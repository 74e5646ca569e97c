// SPDX-License-Identifier: GPL-2.0
//! Path arguments: anything that is a byte string without NUL bytes.

use std::borrow::Cow;
use std::ffi::{CStr, CString, OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use crate::errno::{Errno, Result};

/// Paths shorter than this get their NUL on the stack, not the heap.
const STACK_PATH_MAX: usize = 512;

/// A path in the kernel's file system namespace, taken as the functions of
/// [`std::fs`] take theirs: `&str`, `String`, `&Path`, `PathBuf`, `&OsStr`,
/// `OsString`, `&CStr`, `CString`, `&[u8]`, `Vec<u8>`, `Cow`s and `Box`es
/// of those, and references to any of them. A path containing a NUL byte
/// fails with [`Errno::INVAL`] before reaching the kernel (as
/// [`io::ErrorKind::InvalidInput`](std::io::ErrorKind::InvalidInput) in
/// [`lkl::fs`](crate::fs)).
///
/// ```
/// use std::ffi::{CString, OsString};
/// use std::path::{Path, PathBuf};
/// use lkl::fs;
/// # let kernel = lkl::Kernel::builder().memory_mib(32).boot()?;
/// fs::write("/f", b"x")?;
/// fs::metadata("/f")?;
/// fs::metadata(String::from("/f"))?;
/// fs::metadata(Path::new("/f"))?;
/// fs::metadata(PathBuf::from("/f"))?;
/// fs::metadata(OsString::from("/f"))?;
/// fs::metadata(c"/f")?;
/// fs::metadata(CString::new("/f")?)?;
/// fs::metadata(&b"/f"[..])?;
/// let nul = fs::metadata("/f\0x").unwrap_err();
/// assert_eq!(nul.kind(), std::io::ErrorKind::InvalidInput);
/// # kernel.halt()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait PathArg {
    /// The path as a NUL-terminated C string.
    ///
    /// ```
    /// use lkl::PathArg;
    ///
    /// assert_eq!("/etc".to_c_path()?.to_bytes_with_nul(), b"/etc\0");
    /// assert_eq!("a\0b".to_c_path().unwrap_err(), lkl::Errno::INVAL);
    /// # Ok::<(), lkl::Errno>(())
    /// ```
    fn to_c_path(&self) -> Result<Cow<'_, CStr>>;

    /// Runs `f` with the path as a NUL-terminated C string; a path with a
    /// NUL byte gives `E::from(Errno::INVAL)` without running `f`. Types
    /// without their own NUL copy short paths to the stack, so a call that
    /// takes a path need not allocate.
    ///
    /// ```
    /// use lkl::PathArg;
    ///
    /// let len = "/etc/hostname".with_c_path(|c| Ok::<_, lkl::Errno>(c.to_bytes_with_nul().len()));
    /// assert_eq!(len, Ok(14));
    /// assert_eq!("a\0b".with_c_path(|_| Ok::<_, lkl::Errno>(())), Err(lkl::Errno::INVAL));
    /// ```
    fn with_c_path<T, E: From<Errno>>(
        &self,
        f: impl FnOnce(&CStr) -> core::result::Result<T, E>,
    ) -> core::result::Result<T, E> {
        f(&self.to_c_path()?)
    }
}

fn owned(bytes: &[u8]) -> Result<Cow<'static, CStr>> {
    CString::new(bytes)
        .map(Cow::Owned)
        .map_err(|_| Errno::INVAL)
}

/// Runs `f` with `bytes` and a NUL: on the stack when short.
fn with_bytes<T, E: From<Errno>>(
    bytes: &[u8],
    f: impl FnOnce(&CStr) -> core::result::Result<T, E>,
) -> core::result::Result<T, E> {
    if bytes.len() >= STACK_PATH_MAX {
        return f(&owned(bytes)?);
    }
    let mut buf = [0u8; STACK_PATH_MAX];
    buf[..bytes.len()].copy_from_slice(bytes);
    // Refuses a NUL inside, as CString::new does.
    let path = CStr::from_bytes_with_nul(&buf[..=bytes.len()]).map_err(|_| Errno::INVAL)?;
    f(path)
}

/// Implements `PathArg` for a type whose bytes `$bytes` gives.
macro_rules! byte_path {
    ($($t:ty => |$s:ident| $bytes:expr;)*) => {$(
        impl PathArg for $t {
            fn to_c_path(&self) -> Result<Cow<'_, CStr>> {
                let $s = self;
                owned($bytes)
            }

            fn with_c_path<T, E: From<Errno>>(
                &self,
                f: impl FnOnce(&CStr) -> core::result::Result<T, E>,
            ) -> core::result::Result<T, E> {
                let $s = self;
                with_bytes($bytes, f)
            }
        }
    )*};
}

byte_path! {
    str => |s| s.as_bytes();
    String => |s| s.as_bytes();
    [u8] => |s| s;
    Vec<u8> => |s| s;
    OsStr => |s| s.as_bytes();
    OsString => |s| s.as_bytes();
    Path => |s| s.as_os_str().as_bytes();
    PathBuf => |s| s.as_os_str().as_bytes();
    Component<'_> => |s| s.as_os_str().as_bytes();
}

impl PathArg for CStr {
    fn to_c_path(&self) -> Result<Cow<'_, CStr>> {
        Ok(Cow::Borrowed(self))
    }
}

impl PathArg for CString {
    fn to_c_path(&self) -> Result<Cow<'_, CStr>> {
        Ok(Cow::Borrowed(self.as_c_str()))
    }
}

impl<T: PathArg + ?Sized> PathArg for &T {
    fn to_c_path(&self) -> Result<Cow<'_, CStr>> {
        (**self).to_c_path()
    }

    fn with_c_path<R, E: From<Errno>>(
        &self,
        f: impl FnOnce(&CStr) -> core::result::Result<R, E>,
    ) -> core::result::Result<R, E> {
        (**self).with_c_path(f)
    }
}

impl<T: PathArg + ?Sized> PathArg for Box<T> {
    fn to_c_path(&self) -> Result<Cow<'_, CStr>> {
        (**self).to_c_path()
    }

    fn with_c_path<R, E: From<Errno>>(
        &self,
        f: impl FnOnce(&CStr) -> core::result::Result<R, E>,
    ) -> core::result::Result<R, E> {
        (**self).with_c_path(f)
    }
}

impl<T: PathArg + ToOwned + ?Sized> PathArg for Cow<'_, T> {
    fn to_c_path(&self) -> Result<Cow<'_, CStr>> {
        (**self).to_c_path()
    }

    fn with_c_path<R, E: From<Errno>>(
        &self,
        f: impl FnOnce(&CStr) -> core::result::Result<R, E>,
    ) -> core::result::Result<R, E> {
        (**self).with_c_path(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes_of(p: impl PathArg) -> Result<Vec<u8>> {
        p.with_c_path(|c| Ok(c.to_bytes().to_vec()))
    }

    #[test]
    fn converts_every_kind() {
        let want = Ok(b"/a/b".to_vec());
        assert_eq!(bytes_of("/a/b"), want);
        assert_eq!(bytes_of(String::from("/a/b")), want);
        assert_eq!(bytes_of(Path::new("/a/b")), want);
        assert_eq!(bytes_of(PathBuf::from("/a/b")), want);
        assert_eq!(bytes_of(OsStr::new("/a/b")), want);
        assert_eq!(bytes_of(OsString::from("/a/b")), want);
        assert_eq!(bytes_of(c"/a/b"), want);
        assert_eq!(bytes_of(CString::new("/a/b").unwrap()), want);
        assert_eq!(bytes_of(b"/a/b".to_vec()), want);
        assert_eq!(bytes_of(Cow::Borrowed(Path::new("/a/b"))), want);
        assert_eq!(bytes_of(Box::<Path>::from(Path::new("/a/b"))), want);
        let nested: &&str = &"/a/b";
        assert_eq!(bytes_of(nested), want);
    }

    #[test]
    fn long_and_bad_paths() {
        let long = "x".repeat(STACK_PATH_MAX);
        assert_eq!(bytes_of(&long), Ok(long.clone().into_bytes()));
        let just_fits = "y".repeat(STACK_PATH_MAX - 1);
        assert_eq!(bytes_of(&just_fits), Ok(just_fits.clone().into_bytes()));
        assert_eq!(bytes_of("a\0b"), Err(Errno::INVAL));
        assert_eq!(bytes_of(format!("{long}\0")), Err(Errno::INVAL));
        assert_eq!(bytes_of(""), Ok(Vec::new()));
    }
}
