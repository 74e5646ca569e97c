// SPDX-License-Identifier: GPL-2.0
//! The common shape of the kernel flag sets (`O_*`, `MS_*`, `EPOLL*`).

/// Declares a flag set over the raw kernel bits: combine with `|`, test
/// with `contains`, and pass unknown bits on as they are.
macro_rules! kernel_flags {
    ($(#[$doc:meta])* $name:ident: $bits:ty) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
        pub struct $name($bits);

        impl $name {
            /// Flags from raw bits; unknown bits are passed on as they are.
            pub const fn from_bits(bits: $bits) -> $name {
                $name(bits)
            }

            /// The raw bits.
            pub const fn bits(self) -> $bits {
                self.0
            }

            /// Whether every bit of `other` is set.
            pub const fn contains(self, other: $name) -> bool {
                self.0 & other.0 == other.0
            }
        }

        impl core::ops::BitOr for $name {
            type Output = $name;
            fn bitor(self, other: $name) -> $name {
                $name(self.0 | other.0)
            }
        }
    };
}

pub(crate) use kernel_flags;
