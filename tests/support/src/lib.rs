// SPDX-License-Identifier: GPL-2.0
//! Test support shared by the library's test programs (`lkl-sys`'s core and
//! adversarial scenarios, the soak, the fuzz). Not part of any public API.

pub mod rng;
pub mod uring;
