// SPDX-License-Identifier: GPL-2.0
//! Kernel console output and the application's sink.
//!
//! One test function only: the sink is process-wide, and the silence check
//! redirects the process's stdout and stderr.

mod common;

use common::*;
use lkl_host::set_console_sink;
use std::ffi::c_char;
use std::sync::{Arc, Mutex};
use std::thread;

fn print(bytes: &[u8]) {
    // SAFETY: `bytes` is readable for its length.
    unsafe { lkl_host_print(bytes.as_ptr().cast::<c_char>(), bytes.len() as i32) };
}

/// Runs `f` with fds 1 and 2 pointing into a pipe; returns what was written.
fn capture_stdio(f: impl FnOnce()) -> Vec<u8> {
    let mut pipe = [0; 2];
    // SAFETY: plain descriptor juggling on descriptors this process owns;
    // `pipe` is a valid out-array and the buffer is valid for its length.
    unsafe {
        assert_eq!(libc::pipe2(pipe.as_mut_ptr(), libc::O_NONBLOCK), 0);
        let saved = [libc::dup(1), libc::dup(2)];
        assert!(saved[0] >= 0 && saved[1] >= 0);
        libc::dup2(pipe[1], 1);
        libc::dup2(pipe[1], 2);
        f();
        libc::dup2(saved[0], 1);
        libc::dup2(saved[1], 2);
        libc::close(saved[0]);
        libc::close(saved[1]);
        libc::close(pipe[1]);
        let mut out = Vec::new();
        let mut buffer = [0u8; 4096];
        loop {
            let n = libc::read(pipe[0], buffer.as_mut_ptr().cast(), buffer.len());
            if n <= 0 {
                break;
            }
            out.extend_from_slice(&buffer[..n as usize]);
        }
        libc::close(pipe[0]);
        out
    }
}

#[test]
fn console_sink() {
    // Silent by default: nothing reaches stdout or stderr.
    let leaked = capture_stdio(|| {
        print(b"Linux version 6.12\n");
        // The capture itself works: this line must come through.
        // SAFETY: writing a static buffer to fd 2.
        unsafe { libc::write(2, b"canary".as_ptr().cast(), 6) };
    });
    assert_eq!(leaked, b"canary", "printed without a sink");

    // A sink receives exactly the bytes printed, in order.
    let received = Arc::new(Mutex::new(Vec::<u8>::new()));
    let into = received.clone();
    set_console_sink(Some(Box::new(move |bytes: &[u8]| {
        into.lock().unwrap().extend_from_slice(bytes)
    })));
    let chunks: [&[u8]; 4] = [b"Linux version", b" 6.12\n", b"\0binary\xff\xfe", b"x"];
    let leaked = capture_stdio(|| {
        for chunk in chunks {
            print(chunk);
        }
        // Nothing for empty, negative-length or NULL output.
        print(b"");
        // SAFETY: negative lengths and NULL are refused before any read.
        unsafe {
            lkl_host_print(b"never".as_ptr().cast(), -5);
            lkl_host_print(std::ptr::null(), 5);
        }
    });
    assert_eq!(leaked, b"", "a sink is installed, yet stdio got output");
    assert_eq!(*received.lock().unwrap(), chunks.concat());

    // Prints from many threads all arrive, each chunk in one piece.
    received.lock().unwrap().clear();
    thread::scope(|scope| {
        for worker in 0..4u8 {
            scope.spawn(move || {
                for _ in 0..500 {
                    print(&[b'a' + worker; 8]);
                }
            });
        }
    });
    let all = received.lock().unwrap().clone();
    assert_eq!(all.len(), 4 * 500 * 8);
    for chunk in all.chunks(8) {
        assert!(chunk.iter().all(|&b| b == chunk[0]), "chunks interleaved");
    }

    // A sink may replace itself while printing.
    let replaced = Arc::new(Mutex::new(Vec::<u8>::new()));
    let into = replaced.clone();
    set_console_sink(Some(Box::new(move |bytes: &[u8]| {
        into.lock().unwrap().extend_from_slice(bytes);
        set_console_sink(None);
    })));
    print(b"once");
    print(b"twice");
    assert_eq!(*replaced.lock().unwrap(), b"once");

    // Silent again after removing the sink.
    received.lock().unwrap().clear();
    let leaked = capture_stdio(|| print(b"after removal"));
    assert_eq!(leaked, b"");
    assert!(received.lock().unwrap().is_empty());
}
