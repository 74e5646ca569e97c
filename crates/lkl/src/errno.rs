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
    ($($name:ident = $c:ident: $text:literal,)*) => {
        impl Errno {
            $(
                #[doc = concat!("`", stringify!($c), "`: ", $text, ".")]
                pub const $name: Errno = Errno(uapi::$c as i32);
            )*

            /// The symbolic name (`"ENOENT"`), if this crate knows it.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $(n if n == uapi::$c as i32 => Some(stringify!($c)),)*
                    _ => None,
                }
            }

            /// A short description (`"no such file or directory"`), if this
            /// crate knows the number.
            pub fn description(self) -> Option<&'static str> {
                match self.0 {
                    $(n if n == uapi::$c as i32 => Some($text),)*
                    _ => None,
                }
            }
        }
    };
}

errnos! {
    PERM = EPERM: "operation not permitted",
    NOENT = ENOENT: "no such file or directory",
    SRCH = ESRCH: "no such process",
    INTR = EINTR: "interrupted system call",
    IO = EIO: "input/output error",
    NXIO = ENXIO: "no such device or address",
    TOOBIG = E2BIG: "argument list too long",
    NOEXEC = ENOEXEC: "exec format error",
    BADF = EBADF: "bad file descriptor",
    CHILD = ECHILD: "no child processes",
    AGAIN = EAGAIN: "resource temporarily unavailable",
    NOMEM = ENOMEM: "cannot allocate memory",
    ACCES = EACCES: "permission denied",
    FAULT = EFAULT: "bad address",
    NOTBLK = ENOTBLK: "block device required",
    BUSY = EBUSY: "device or resource busy",
    EXIST = EEXIST: "file exists",
    XDEV = EXDEV: "invalid cross-device link",
    NODEV = ENODEV: "no such device",
    NOTDIR = ENOTDIR: "not a directory",
    ISDIR = EISDIR: "is a directory",
    INVAL = EINVAL: "invalid argument",
    NFILE = ENFILE: "too many open files in system",
    MFILE = EMFILE: "too many open files",
    NOTTY = ENOTTY: "inappropriate ioctl for device",
    TXTBSY = ETXTBSY: "text file busy",
    FBIG = EFBIG: "file too large",
    NOSPC = ENOSPC: "no space left on device",
    SPIPE = ESPIPE: "illegal seek",
    ROFS = EROFS: "read-only file system",
    MLINK = EMLINK: "too many links",
    PIPE = EPIPE: "broken pipe",
    DOM = EDOM: "numerical argument out of domain",
    RANGE = ERANGE: "numerical result out of range",
    DEADLK = EDEADLK: "resource deadlock avoided",
    NAMETOOLONG = ENAMETOOLONG: "file name too long",
    NOLCK = ENOLCK: "no locks available",
    NOSYS = ENOSYS: "function not implemented",
    NOTEMPTY = ENOTEMPTY: "directory not empty",
    LOOP = ELOOP: "too many levels of symbolic links",
    NOMSG = ENOMSG: "no message of desired type",
    NODATA = ENODATA: "no data available",
    OVERFLOW = EOVERFLOW: "value too large for defined data type",
    NOTSOCK = ENOTSOCK: "socket operation on non-socket",
    DESTADDRREQ = EDESTADDRREQ: "destination address required",
    MSGSIZE = EMSGSIZE: "message too long",
    PROTOTYPE = EPROTOTYPE: "protocol wrong type for socket",
    NOPROTOOPT = ENOPROTOOPT: "protocol not available",
    PROTONOSUPPORT = EPROTONOSUPPORT: "protocol not supported",
    OPNOTSUPP = EOPNOTSUPP: "operation not supported",
    AFNOSUPPORT = EAFNOSUPPORT: "address family not supported by protocol",
    ADDRINUSE = EADDRINUSE: "address already in use",
    ADDRNOTAVAIL = EADDRNOTAVAIL: "cannot assign requested address",
    NETDOWN = ENETDOWN: "network is down",
    NETUNREACH = ENETUNREACH: "network is unreachable",
    CONNABORTED = ECONNABORTED: "software caused connection abort",
    CONNRESET = ECONNRESET: "connection reset by peer",
    NOBUFS = ENOBUFS: "no buffer space available",
    ISCONN = EISCONN: "transport endpoint is already connected",
    NOTCONN = ENOTCONN: "transport endpoint is not connected",
    TIMEDOUT = ETIMEDOUT: "connection timed out",
    CONNREFUSED = ECONNREFUSED: "connection refused",
    HOSTUNREACH = EHOSTUNREACH: "no route to host",
    ALREADY = EALREADY: "operation already in progress",
    INPROGRESS = EINPROGRESS: "operation now in progress",
    STALE = ESTALE: "stale file handle",
    DQUOT = EDQUOT: "disk quota exceeded",
    CANCELED = ECANCELED: "operation canceled",
    UCLEAN = EUCLEAN: "structure needs cleaning",
}

impl Errno {
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
            _ => write!(f, "kernel error {}", self.0),
        }
    }
}

impl std::error::Error for Errno {}

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
            "no such file or directory (ENOENT)"
        );
        assert_eq!(format!("{:?}", Errno::BUSY), "Errno(EBUSY)");
        assert_eq!(Errno::from_raw(4000).to_string(), "kernel error 4000");
        assert_eq!(Errno::from_raw(4000).name(), None);
        assert_eq!(Errno::FAULT.to_io_error().raw_os_error(), Some(14));
    }
}
