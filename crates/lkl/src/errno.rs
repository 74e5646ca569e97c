// SPDX-License-Identifier: GPL-2.0
//! Kernel error numbers.

use core::fmt;

use lkl_sys::uapi;

/// An error number returned by the library's kernel.
///
/// It is a type of its own, not [`std::io::Error`]: an `Errno` always comes
/// from the kernel inside the program, never from the host, so the two
/// cannot be confused. It is not an enum because the kernel may return
/// numbers this crate has no name for; those keep their value.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub struct Errno(i32);

/// The result of a kernel call.
pub type Result<T> = core::result::Result<T, Errno>;

macro_rules! errnos {
    ($($name:ident = $c:ident,)*) => {
        impl Errno {
            $(
                #[doc = concat!("`", stringify!($c), "`")]
                pub const $name: Errno = Errno(uapi::$c as i32);
            )*

            /// The symbolic name (`"ENOENT"`), if this crate knows it.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $(n if n == uapi::$c as i32 => Some(stringify!($c)),)*
                    _ => None,
                }
            }

        }
    };
}

errnos! {
    PERM = EPERM,
    NOENT = ENOENT,
    SRCH = ESRCH,
    INTR = EINTR,
    IO = EIO,
    NXIO = ENXIO,
    TOOBIG = E2BIG,
    NOEXEC = ENOEXEC,
    BADF = EBADF,
    CHILD = ECHILD,
    AGAIN = EAGAIN,
    NOMEM = ENOMEM,
    ACCES = EACCES,
    FAULT = EFAULT,
    NOTBLK = ENOTBLK,
    BUSY = EBUSY,
    EXIST = EEXIST,
    XDEV = EXDEV,
    NODEV = ENODEV,
    NOTDIR = ENOTDIR,
    ISDIR = EISDIR,
    INVAL = EINVAL,
    NFILE = ENFILE,
    MFILE = EMFILE,
    NOTTY = ENOTTY,
    TXTBSY = ETXTBSY,
    FBIG = EFBIG,
    NOSPC = ENOSPC,
    SPIPE = ESPIPE,
    ROFS = EROFS,
    MLINK = EMLINK,
    PIPE = EPIPE,
    DOM = EDOM,
    RANGE = ERANGE,
    DEADLK = EDEADLK,
    NAMETOOLONG = ENAMETOOLONG,
    NOLCK = ENOLCK,
    NOSYS = ENOSYS,
    NOTEMPTY = ENOTEMPTY,
    LOOP = ELOOP,
    NOMSG = ENOMSG,
    NODATA = ENODATA,
    OVERFLOW = EOVERFLOW,
    NOTSOCK = ENOTSOCK,
    DESTADDRREQ = EDESTADDRREQ,
    MSGSIZE = EMSGSIZE,
    PROTOTYPE = EPROTOTYPE,
    NOPROTOOPT = ENOPROTOOPT,
    PROTONOSUPPORT = EPROTONOSUPPORT,
    OPNOTSUPP = EOPNOTSUPP,
    AFNOSUPPORT = EAFNOSUPPORT,
    ADDRINUSE = EADDRINUSE,
    ADDRNOTAVAIL = EADDRNOTAVAIL,
    NETDOWN = ENETDOWN,
    NETUNREACH = ENETUNREACH,
    CONNABORTED = ECONNABORTED,
    CONNRESET = ECONNRESET,
    NOBUFS = ENOBUFS,
    ISCONN = EISCONN,
    NOTCONN = ENOTCONN,
    TIMEDOUT = ETIMEDOUT,
    CONNREFUSED = ECONNREFUSED,
    HOSTUNREACH = EHOSTUNREACH,
    ALREADY = EALREADY,
    INPROGRESS = EINPROGRESS,
    STALE = ESTALE,
    DQUOT = EDQUOT,
    CANCELED = ECANCELED,
    UCLEAN = EUCLEAN,
    // What file systems return for damaged or odd media.
    BADMSG = EBADMSG,
    ILSEQ = EILSEQ,
    REMOTEIO = EREMOTEIO,
    NOMEDIUM = ENOMEDIUM,
    MEDIUMTYPE = EMEDIUMTYPE,
    NOTRECOVERABLE = ENOTRECOVERABLE,
}

impl Errno {
    /// The kernel's description (`"No such file or directory"`), if it
    /// defines the number.
    pub fn description(self) -> Option<&'static str> {
        lkl_sys::errno_description(self.0).and_then(|text| text.to_str().ok())
    }

    /// The error with number `errno` (positive, as in C's `errno`).
    pub const fn from_raw(errno: i32) -> Errno {
        Errno(errno)
    }

    /// The positive error number.
    pub const fn raw(self) -> i32 {
        self.0
    }

    /// Decodes a raw kernel return: negative values in `-4095..0` are
    /// errors, anything else is the result.
    pub(crate) fn result(ret: i64) -> Result<i64> {
        if (-4095..0).contains(&ret) {
            Err(Errno(-ret as i32))
        } else {
            Ok(ret)
        }
    }

    /// The host error of the same number, for an application that wants to
    /// report a kernel error through `std::io` (on Linux hosts the numbers
    /// coincide). Explicit on purpose: kernel and host errors never mix
    /// implicitly.
    pub fn to_io_error(self) -> std::io::Error {
        std::io::Error::from_raw_os_error(self.0)
    }
}

impl fmt::Debug for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "Errno({name})"),
            None => write!(f, "Errno({})", self.0),
        }
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.name(), self.description()) {
            (Some(name), Some(text)) => write!(f, "{text} ({name})"),
            (None, Some(text)) => write!(f, "{text} (kernel errno {})", self.0),
            _ => write!(f, "kernel error {}", self.0),
        }
    }
}

impl std::error::Error for Errno {}

/// A kernel error as a [`std::io::Error`] with the same number, as the
/// [`std::fs`]-like functions of [`lkl::fs`](crate::fs) return it: its
/// [`raw_os_error`](std::io::Error::raw_os_error) is the kernel's errno and
/// its [`kind`](std::io::Error::kind) follows from it (`ENOENT` is
/// `NotFound`). Made without allocating.
///
/// ```
/// use std::io;
///
/// let err = io::Error::from(lkl::Errno::NOENT);
/// assert_eq!(err.kind(), io::ErrorKind::NotFound);
/// assert_eq!(err.raw_os_error(), Some(2));
///
/// fn kernel_call() -> lkl::Result<()> { Err(lkl::Errno::ACCES) }
/// fn std_like() -> io::Result<()> { Ok(kernel_call()?) }
/// assert_eq!(std_like().unwrap_err().kind(), io::ErrorKind::PermissionDenied);
/// ```
impl From<Errno> for std::io::Error {
    fn from(errno: Errno) -> std::io::Error {
        std::io::Error::from_raw_os_error(errno.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_kernel_returns() {
        assert_eq!(Errno::result(-2), Err(Errno::NOENT));
        assert_eq!(Errno::result(-4095), Err(Errno::from_raw(4095)));
        assert_eq!(Errno::result(0), Ok(0));
        assert_eq!(Errno::result(7), Ok(7));
        // Large "negative" values are results (addresses), not errors.
        assert_eq!(Errno::result(-4096), Ok(-4096));
    }

    #[test]
    fn names_and_text() {
        assert_eq!(Errno::NOENT.raw(), 2);
        assert_eq!(Errno::NOENT.name(), Some("ENOENT"));
        assert_eq!(
            Errno::NOENT.to_string(),
            "No such file or directory (ENOENT)"
        );
        assert_eq!(format!("{:?}", Errno::BUSY), "Errno(EBUSY)");
        assert_eq!(Errno::from_raw(4000).to_string(), "kernel error 4000");
        assert_eq!(Errno::from_raw(4000).name(), None);
        // Described by the kernel, but without a constant in this crate.
        assert_eq!(
            Errno::from_raw(133).to_string(),
            "Memory page has hardware error (kernel errno 133)"
        );
        assert_eq!(Errno::FAULT.to_io_error().raw_os_error(), Some(14));
    }
}
