// SPDX-License-Identifier: GPL-2.0
//! lkl_strerror and lkl_perror: descriptions of the kernel's errno values.

use core::ffi::{c_char, c_int, CStr};

/// (errno, description), for the errno values of the kernel's
/// asm-generic/errno-base.h and errno.h (x86 uses those numbers).
const MESSAGES: &[(c_int, &CStr)] = &[
    (0, c"Success"),
    (1, c"Operation not permitted"),
    (2, c"No such file or directory"),
    (3, c"No such process"),
    (4, c"Interrupted system call"),
    (5, c"Input/output error"),
    (6, c"No such device or address"),
    (7, c"Argument list too long"),
    (8, c"Exec format error"),
    (9, c"Bad file descriptor"),
    (10, c"No child processes"),
    (11, c"Resource temporarily unavailable"),
    (12, c"Cannot allocate memory"),
    (13, c"Permission denied"),
    (14, c"Bad address"),
    (15, c"Block device required"),
    (16, c"Device or resource busy"),
    (17, c"File exists"),
    (18, c"Invalid cross-device link"),
    (19, c"No such device"),
    (20, c"Not a directory"),
    (21, c"Is a directory"),
    (22, c"Invalid argument"),
    (23, c"Too many open files in system"),
    (24, c"Too many open files"),
    (25, c"Inappropriate ioctl for device"),
    (26, c"Text file busy"),
    (27, c"File too large"),
    (28, c"No space left on device"),
    (29, c"Illegal seek"),
    (30, c"Read-only file system"),
    (31, c"Too many links"),
    (32, c"Broken pipe"),
    (33, c"Numerical argument out of domain"),
    (34, c"Numerical result out of range"),
    (35, c"Resource deadlock avoided"),
    (36, c"File name too long"),
    (37, c"No locks available"),
    (38, c"Function not implemented"),
    (39, c"Directory not empty"),
    (40, c"Too many levels of symbolic links"),
    (42, c"No message of desired type"),
    (43, c"Identifier removed"),
    (44, c"Channel number out of range"),
    (45, c"Level 2 not synchronized"),
    (46, c"Level 3 halted"),
    (47, c"Level 3 reset"),
    (48, c"Link number out of range"),
    (49, c"Protocol driver not attached"),
    (50, c"No CSI structure available"),
    (51, c"Level 2 halted"),
    (52, c"Invalid exchange"),
    (53, c"Invalid request descriptor"),
    (54, c"Exchange full"),
    (55, c"No anode"),
    (56, c"Invalid request code"),
    (57, c"Invalid slot"),
    (59, c"Bad font file format"),
    (60, c"Device not a stream"),
    (61, c"No data available"),
    (62, c"Timer expired"),
    (63, c"Out of streams resources"),
    (64, c"Machine is not on the network"),
    (65, c"Package not installed"),
    (66, c"Object is remote"),
    (67, c"Link has been severed"),
    (68, c"Advertise error"),
    (69, c"Srmount error"),
    (70, c"Communication error on send"),
    (71, c"Protocol error"),
    (72, c"Multihop attempted"),
    (73, c"RFS specific error"),
    (74, c"Bad message"),
    (75, c"Value too large for defined data type"),
    (76, c"Name not unique on network"),
    (77, c"File descriptor in bad state"),
    (78, c"Remote address changed"),
    (79, c"Can not access a needed shared library"),
    (80, c"Accessing a corrupted shared library"),
    (81, c".lib section in a.out corrupted"),
    (82, c"Attempting to link in too many shared libraries"),
    (83, c"Cannot exec a shared library directly"),
    (84, c"Invalid or incomplete multibyte or wide character"),
    (85, c"Interrupted system call should be restarted"),
    (86, c"Streams pipe error"),
    (87, c"Too many users"),
    (88, c"Socket operation on non-socket"),
    (89, c"Destination address required"),
    (90, c"Message too long"),
    (91, c"Protocol wrong type for socket"),
    (92, c"Protocol not available"),
    (93, c"Protocol not supported"),
    (94, c"Socket type not supported"),
    (95, c"Operation not supported"),
    (96, c"Protocol family not supported"),
    (97, c"Address family not supported by protocol"),
    (98, c"Address already in use"),
    (99, c"Cannot assign requested address"),
    (100, c"Network is down"),
    (101, c"Network is unreachable"),
    (102, c"Network dropped connection on reset"),
    (103, c"Software caused connection abort"),
    (104, c"Connection reset by peer"),
    (105, c"No buffer space available"),
    (106, c"Transport endpoint is already connected"),
    (107, c"Transport endpoint is not connected"),
    (108, c"Cannot send after transport endpoint shutdown"),
    (109, c"Too many references: cannot splice"),
    (110, c"Connection timed out"),
    (111, c"Connection refused"),
    (112, c"Host is down"),
    (113, c"No route to host"),
    (114, c"Operation already in progress"),
    (115, c"Operation now in progress"),
    (116, c"Stale file handle"),
    (117, c"Structure needs cleaning"),
    (118, c"Not a XENIX named type file"),
    (119, c"No XENIX semaphores available"),
    (120, c"Is a named type file"),
    (121, c"Remote I/O error"),
    (122, c"Disk quota exceeded"),
    (123, c"No medium found"),
    (124, c"Wrong medium type"),
    (125, c"Operation canceled"),
    (126, c"Required key not available"),
    (127, c"Key has expired"),
    (128, c"Key has been revoked"),
    (129, c"Key was rejected by service"),
    (130, c"Owner died"),
    (131, c"State not recoverable"),
    (132, c"Operation not possible due to RF-kill"),
    (133, c"Memory page has hardware error"),
];

/// The description of kernel errno `err` (negative, as the C API returns
/// them, or positive). Unknown values give "Unknown error". The string is
/// static.
#[no_mangle]
pub extern "C" fn lkl_strerror(err: c_int) -> *const c_char {
    let err = err.checked_abs().unwrap_or(c_int::MAX);
    MESSAGES
        .iter()
        .find(|(e, _)| *e == err)
        .map_or(c"Unknown error", |(_, m)| m)
        .as_ptr()
}

/// Prints "`msg`: description\n" through the console function, like
/// perror for kernel errno `err`.
///
/// # Safety
///
/// `msg` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn lkl_perror(msg: *const c_char, err: c_int) {
    // SAFETY: lkl_strerror returns a static NUL-terminated string.
    let what = unsafe { CStr::from_ptr(lkl_strerror(err)) };
    let mut line = Vec::new();
    if !msg.is_null() {
        // SAFETY: by the caller's promise `msg` is NUL-terminated.
        line.extend_from_slice(unsafe { CStr::from_ptr(msg) }.to_bytes());
        line.extend_from_slice(b": ");
    }
    line.extend_from_slice(what.to_bytes());
    line.push(b'\n');
    crate::run::print_bytes(&line);
}
