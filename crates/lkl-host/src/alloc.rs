// SPDX-License-Identifier: GPL-2.0
//! Fallible boxing, so that `*_alloc` can return NULL when memory runs out
//! instead of aborting in Rust's out-of-memory handler.

use std::alloc::{alloc, Layout};
use std::ptr;

/// Moves `value` to the heap and returns the pointer, or NULL (dropping
/// `value`) if the allocation fails. The pointer is released with
/// `Box::from_raw`.
pub(crate) fn try_box<T>(value: T) -> *mut T {
    let layout = Layout::new::<T>();
    assert!(
        layout.size() != 0,
        "try_box is not meant for zero-sized types"
    );
    // SAFETY: `layout` has a non-zero size, as checked above.
    let raw = unsafe { alloc(layout) }.cast::<T>();
    if raw.is_null() {
        return ptr::null_mut();
    }
    // SAFETY: `raw` is a fresh allocation with the size and alignment of
    // `T`, so writing one `T` into it is valid. Memory allocated by the
    // global allocator with `Layout::new::<T>()` is what `Box::from_raw`
    // expects.
    unsafe { raw.write(value) };
    raw
}
