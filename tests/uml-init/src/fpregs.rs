// SPDX-License-Identifier: GPL-2.0
//! Vector registers across context switches, signal handlers and ptrace.
//!
//! UML keeps a process's FP and vector state in its task and moves it in and
//! out of the host process through ptrace. Threads of one process share one
//! host process, so only that save and restore keeps their registers apart,
//! and a signal handler's return restores them from UML's signal frame. Each
//! check here loads a pattern into every vector register the CPU has (SSE,
//! AVX, or AVX-512 with its mask registers), has the kernel switch tasks or
//! run a signal handler that overwrites them all, and compares what comes
//! back. A third check reads and writes a stopped child's registers with
//! PTRACE_GETFPREGS and PTRACE_SETFPREGS.

use std::arch::asm;
use std::sync::atomic::{AtomicU8, Ordering};

/// Bytes of the largest register file: 32 registers of 64 bytes.
const VEC_BYTES: usize = 32 * 64;
/// Mask registers k1..k7 (k0 cannot be named), 16 bits each with AVX-512F.
const KMASK_BYTES: usize = 7 * 2;

/// The widest vector registers this CPU and the kernel let a process use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Sse,
    Avx,
    Avx512,
}

impl Level {
    pub fn detect() -> Level {
        if std::arch::is_x86_feature_detected!("avx512f") {
            Level::Avx512
        } else if std::arch::is_x86_feature_detected!("avx") {
            Level::Avx
        } else {
            Level::Sse
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Level::Sse => "SSE (xmm0-15)",
            Level::Avx => "AVX (ymm0-15)",
            Level::Avx512 => "AVX-512 (zmm0-31, k1-7)",
        }
    }

    fn reg_bytes(self) -> usize {
        match self {
            Level::Sse => 16,
            Level::Avx => 32,
            Level::Avx512 => 64,
        }
    }

    fn reg_count(self) -> usize {
        match self {
            Level::Sse | Level::Avx => 16,
            Level::Avx512 => 32,
        }
    }

    fn reg_prefix(self) -> &'static str {
        match self {
            Level::Sse => "xmm",
            Level::Avx => "ymm",
            Level::Avx512 => "zmm",
        }
    }

    fn code(self) -> u8 {
        self as u8
    }

    fn from_code(code: u8) -> Level {
        match code {
            2 => Level::Avx512,
            1 => Level::Avx,
            _ => Level::Sse,
        }
    }
}

/// What the registers of one level hold: vectors, then mask registers.
#[derive(Clone)]
#[repr(C, align(64))]
pub struct Image {
    vec: [u8; VEC_BYTES],
    k: [u8; 16],
}

impl Image {
    fn zeroed() -> Image {
        Image {
            vec: [0; VEC_BYTES],
            k: [0; 16],
        }
    }

    /// A pattern no two seeds share, with no zero bytes.
    pub fn pattern(seed: u64) -> Image {
        let mut image = Image::zeroed();
        let mut state = seed ^ 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        for chunk in image.vec.chunks_mut(8).chain(image.k.chunks_mut(8)) {
            let bytes = next().to_le_bytes();
            for (dst, src) in chunk.iter_mut().zip(bytes) {
                *dst = src | 1;
            }
        }
        image
    }

    /// Names the first register of `level` whose contents differ.
    fn compare(&self, got: &Image, level: Level) -> Result<(), String> {
        let size = level.reg_bytes();
        for reg in 0..level.reg_count() {
            let range = reg * size..(reg + 1) * size;
            if self.vec[range.clone()] != got.vec[range.clone()] {
                return Err(format!(
                    "{}{reg} came back changed: expected {}, got {}",
                    level.reg_prefix(),
                    hex(&self.vec[range.clone()]),
                    hex(&got.vec[range])
                ));
            }
        }
        if level == Level::Avx512 {
            for reg in 0..KMASK_BYTES / 2 {
                let range = reg * 2..reg * 2 + 2;
                if self.k[range.clone()] != got.k[range.clone()] {
                    return Err(format!(
                        "k{} came back changed: expected {}, got {}",
                        reg + 1,
                        hex(&self.k[range.clone()]),
                        hex(&got.k[range])
                    ));
                }
            }
        }
        Ok(())
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().rev().map(|b| format!("{b:02x}")).collect()
}

/// Loads `inp` into the registers of `level`, makes system call `nr` with
/// three arguments, and stores the registers into `out`. Nothing between
/// the load and the store runs in this process but the system call (and any
/// signal handler it triggers), so a difference is the kernel's doing.
///
/// # Safety
/// `level` must be one the CPU supports (see [`Level::detect`]), and the
/// system call must be one that returns to this code.
unsafe fn roundtrip(level: Level, inp: &Image, out: &mut Image, nr: i64, args: [i64; 3]) -> i64 {
    match level {
        // SAFETY: SSE2 is part of x86_64; the caller vouches for the call.
        Level::Sse => unsafe { sse_roundtrip(inp, out, nr, args) },
        // SAFETY: the caller checked that the CPU has AVX.
        Level::Avx => unsafe { avx_roundtrip(inp, out, nr, args) },
        // SAFETY: the caller checked that the CPU has AVX-512F.
        Level::Avx512 => unsafe { avx512_roundtrip(inp, out, nr, args) },
    }
}

unsafe fn sse_roundtrip(inp: &Image, out: &mut Image, nr: i64, args: [i64; 3]) -> i64 {
    let ret: i64;
    // SAFETY: reads and writes stay within the two images (16 registers of
    // 16 bytes); every register written is declared clobbered, and so are
    // rcx and r11, which the syscall instruction overwrites.
    unsafe {
        asm!(
            "movdqu xmm0, [{inp} + 0]",
            "movdqu xmm1, [{inp} + 16]",
            "movdqu xmm2, [{inp} + 32]",
            "movdqu xmm3, [{inp} + 48]",
            "movdqu xmm4, [{inp} + 64]",
            "movdqu xmm5, [{inp} + 80]",
            "movdqu xmm6, [{inp} + 96]",
            "movdqu xmm7, [{inp} + 112]",
            "movdqu xmm8, [{inp} + 128]",
            "movdqu xmm9, [{inp} + 144]",
            "movdqu xmm10, [{inp} + 160]",
            "movdqu xmm11, [{inp} + 176]",
            "movdqu xmm12, [{inp} + 192]",
            "movdqu xmm13, [{inp} + 208]",
            "movdqu xmm14, [{inp} + 224]",
            "movdqu xmm15, [{inp} + 240]",
            "syscall",
            "movdqu [{outp} + 0], xmm0",
            "movdqu [{outp} + 16], xmm1",
            "movdqu [{outp} + 32], xmm2",
            "movdqu [{outp} + 48], xmm3",
            "movdqu [{outp} + 64], xmm4",
            "movdqu [{outp} + 80], xmm5",
            "movdqu [{outp} + 96], xmm6",
            "movdqu [{outp} + 112], xmm7",
            "movdqu [{outp} + 128], xmm8",
            "movdqu [{outp} + 144], xmm9",
            "movdqu [{outp} + 160], xmm10",
            "movdqu [{outp} + 176], xmm11",
            "movdqu [{outp} + 192], xmm12",
            "movdqu [{outp} + 208], xmm13",
            "movdqu [{outp} + 224], xmm14",
            "movdqu [{outp} + 240], xmm15",
            inp = in(reg) inp.vec.as_ptr(),
            outp = in(reg) out.vec.as_mut_ptr(),
            inlateout("rax") nr => ret,
            in("rdi") args[0],
            in("rsi") args[1],
            in("rdx") args[2],
            out("rcx") _,
            out("r11") _,
            out("xmm0") _,
            out("xmm1") _,
            out("xmm2") _,
            out("xmm3") _,
            out("xmm4") _,
            out("xmm5") _,
            out("xmm6") _,
            out("xmm7") _,
            out("xmm8") _,
            out("xmm9") _,
            out("xmm10") _,
            out("xmm11") _,
            out("xmm12") _,
            out("xmm13") _,
            out("xmm14") _,
            out("xmm15") _,
            options(nostack),
        );
    }
    ret
}

#[target_feature(enable = "avx")]
unsafe fn avx_roundtrip(inp: &Image, out: &mut Image, nr: i64, args: [i64; 3]) -> i64 {
    let ret: i64;
    // SAFETY: as in sse_roundtrip, with 16 registers of 32 bytes.
    unsafe {
        asm!(
            "vmovdqu ymm0, [{inp} + 0]",
            "vmovdqu ymm1, [{inp} + 32]",
            "vmovdqu ymm2, [{inp} + 64]",
            "vmovdqu ymm3, [{inp} + 96]",
            "vmovdqu ymm4, [{inp} + 128]",
            "vmovdqu ymm5, [{inp} + 160]",
            "vmovdqu ymm6, [{inp} + 192]",
            "vmovdqu ymm7, [{inp} + 224]",
            "vmovdqu ymm8, [{inp} + 256]",
            "vmovdqu ymm9, [{inp} + 288]",
            "vmovdqu ymm10, [{inp} + 320]",
            "vmovdqu ymm11, [{inp} + 352]",
            "vmovdqu ymm12, [{inp} + 384]",
            "vmovdqu ymm13, [{inp} + 416]",
            "vmovdqu ymm14, [{inp} + 448]",
            "vmovdqu ymm15, [{inp} + 480]",
            "syscall",
            "vmovdqu [{outp} + 0], ymm0",
            "vmovdqu [{outp} + 32], ymm1",
            "vmovdqu [{outp} + 64], ymm2",
            "vmovdqu [{outp} + 96], ymm3",
            "vmovdqu [{outp} + 128], ymm4",
            "vmovdqu [{outp} + 160], ymm5",
            "vmovdqu [{outp} + 192], ymm6",
            "vmovdqu [{outp} + 224], ymm7",
            "vmovdqu [{outp} + 256], ymm8",
            "vmovdqu [{outp} + 288], ymm9",
            "vmovdqu [{outp} + 320], ymm10",
            "vmovdqu [{outp} + 352], ymm11",
            "vmovdqu [{outp} + 384], ymm12",
            "vmovdqu [{outp} + 416], ymm13",
            "vmovdqu [{outp} + 448], ymm14",
            "vmovdqu [{outp} + 480], ymm15",
            inp = in(reg) inp.vec.as_ptr(),
            outp = in(reg) out.vec.as_mut_ptr(),
            inlateout("rax") nr => ret,
            in("rdi") args[0],
            in("rsi") args[1],
            in("rdx") args[2],
            out("rcx") _,
            out("r11") _,
            out("ymm0") _,
            out("ymm1") _,
            out("ymm2") _,
            out("ymm3") _,
            out("ymm4") _,
            out("ymm5") _,
            out("ymm6") _,
            out("ymm7") _,
            out("ymm8") _,
            out("ymm9") _,
            out("ymm10") _,
            out("ymm11") _,
            out("ymm12") _,
            out("ymm13") _,
            out("ymm14") _,
            out("ymm15") _,
            options(nostack),
        );
    }
    ret
}

#[target_feature(enable = "avx512f")]
unsafe fn avx512_roundtrip(inp: &Image, out: &mut Image, nr: i64, args: [i64; 3]) -> i64 {
    let ret: i64;
    // SAFETY: as in sse_roundtrip, with 32 registers of 64 bytes and the
    // mask registers k1-k7 (2 bytes each with AVX-512F's kmovw).
    unsafe {
        asm!(
            "vmovdqu64 zmm0, [{inp} + 0]",
            "vmovdqu64 zmm1, [{inp} + 64]",
            "vmovdqu64 zmm2, [{inp} + 128]",
            "vmovdqu64 zmm3, [{inp} + 192]",
            "vmovdqu64 zmm4, [{inp} + 256]",
            "vmovdqu64 zmm5, [{inp} + 320]",
            "vmovdqu64 zmm6, [{inp} + 384]",
            "vmovdqu64 zmm7, [{inp} + 448]",
            "vmovdqu64 zmm8, [{inp} + 512]",
            "vmovdqu64 zmm9, [{inp} + 576]",
            "vmovdqu64 zmm10, [{inp} + 640]",
            "vmovdqu64 zmm11, [{inp} + 704]",
            "vmovdqu64 zmm12, [{inp} + 768]",
            "vmovdqu64 zmm13, [{inp} + 832]",
            "vmovdqu64 zmm14, [{inp} + 896]",
            "vmovdqu64 zmm15, [{inp} + 960]",
            "vmovdqu64 zmm16, [{inp} + 1024]",
            "vmovdqu64 zmm17, [{inp} + 1088]",
            "vmovdqu64 zmm18, [{inp} + 1152]",
            "vmovdqu64 zmm19, [{inp} + 1216]",
            "vmovdqu64 zmm20, [{inp} + 1280]",
            "vmovdqu64 zmm21, [{inp} + 1344]",
            "vmovdqu64 zmm22, [{inp} + 1408]",
            "vmovdqu64 zmm23, [{inp} + 1472]",
            "vmovdqu64 zmm24, [{inp} + 1536]",
            "vmovdqu64 zmm25, [{inp} + 1600]",
            "vmovdqu64 zmm26, [{inp} + 1664]",
            "vmovdqu64 zmm27, [{inp} + 1728]",
            "vmovdqu64 zmm28, [{inp} + 1792]",
            "vmovdqu64 zmm29, [{inp} + 1856]",
            "vmovdqu64 zmm30, [{inp} + 1920]",
            "vmovdqu64 zmm31, [{inp} + 1984]",
            "kmovw k1, [{kin} + 0]",
            "kmovw k2, [{kin} + 2]",
            "kmovw k3, [{kin} + 4]",
            "kmovw k4, [{kin} + 6]",
            "kmovw k5, [{kin} + 8]",
            "kmovw k6, [{kin} + 10]",
            "kmovw k7, [{kin} + 12]",
            "syscall",
            "vmovdqu64 [{outp} + 0], zmm0",
            "vmovdqu64 [{outp} + 64], zmm1",
            "vmovdqu64 [{outp} + 128], zmm2",
            "vmovdqu64 [{outp} + 192], zmm3",
            "vmovdqu64 [{outp} + 256], zmm4",
            "vmovdqu64 [{outp} + 320], zmm5",
            "vmovdqu64 [{outp} + 384], zmm6",
            "vmovdqu64 [{outp} + 448], zmm7",
            "vmovdqu64 [{outp} + 512], zmm8",
            "vmovdqu64 [{outp} + 576], zmm9",
            "vmovdqu64 [{outp} + 640], zmm10",
            "vmovdqu64 [{outp} + 704], zmm11",
            "vmovdqu64 [{outp} + 768], zmm12",
            "vmovdqu64 [{outp} + 832], zmm13",
            "vmovdqu64 [{outp} + 896], zmm14",
            "vmovdqu64 [{outp} + 960], zmm15",
            "vmovdqu64 [{outp} + 1024], zmm16",
            "vmovdqu64 [{outp} + 1088], zmm17",
            "vmovdqu64 [{outp} + 1152], zmm18",
            "vmovdqu64 [{outp} + 1216], zmm19",
            "vmovdqu64 [{outp} + 1280], zmm20",
            "vmovdqu64 [{outp} + 1344], zmm21",
            "vmovdqu64 [{outp} + 1408], zmm22",
            "vmovdqu64 [{outp} + 1472], zmm23",
            "vmovdqu64 [{outp} + 1536], zmm24",
            "vmovdqu64 [{outp} + 1600], zmm25",
            "vmovdqu64 [{outp} + 1664], zmm26",
            "vmovdqu64 [{outp} + 1728], zmm27",
            "vmovdqu64 [{outp} + 1792], zmm28",
            "vmovdqu64 [{outp} + 1856], zmm29",
            "vmovdqu64 [{outp} + 1920], zmm30",
            "vmovdqu64 [{outp} + 1984], zmm31",
            "kmovw [{kout} + 0], k1",
            "kmovw [{kout} + 2], k2",
            "kmovw [{kout} + 4], k3",
            "kmovw [{kout} + 6], k4",
            "kmovw [{kout} + 8], k5",
            "kmovw [{kout} + 10], k6",
            "kmovw [{kout} + 12], k7",
            inp = in(reg) inp.vec.as_ptr(),
            outp = in(reg) out.vec.as_mut_ptr(),
            kin = in(reg) inp.k.as_ptr(),
            kout = in(reg) out.k.as_mut_ptr(),
            inlateout("rax") nr => ret,
            in("rdi") args[0],
            in("rsi") args[1],
            in("rdx") args[2],
            out("rcx") _,
            out("r11") _,
            out("zmm0") _,
            out("zmm1") _,
            out("zmm2") _,
            out("zmm3") _,
            out("zmm4") _,
            out("zmm5") _,
            out("zmm6") _,
            out("zmm7") _,
            out("zmm8") _,
            out("zmm9") _,
            out("zmm10") _,
            out("zmm11") _,
            out("zmm12") _,
            out("zmm13") _,
            out("zmm14") _,
            out("zmm15") _,
            out("zmm16") _,
            out("zmm17") _,
            out("zmm18") _,
            out("zmm19") _,
            out("zmm20") _,
            out("zmm21") _,
            out("zmm22") _,
            out("zmm23") _,
            out("zmm24") _,
            out("zmm25") _,
            out("zmm26") _,
            out("zmm27") _,
            out("zmm28") _,
            out("zmm29") _,
            out("zmm30") _,
            out("zmm31") _,
            out("k1") _,
            out("k2") _,
            out("k3") _,
            out("k4") _,
            out("k5") _,
            out("k6") _,
            out("k7") _,
            options(nostack),
        );
    }
    ret
}

/// The level the signal handler overwrites.
static HANDLER_LEVEL: AtomicU8 = AtomicU8::new(0);

/// Overwrites every vector register, through the same load as the checks
/// (with getpid as the system call in the middle). If the kernel restores
/// less than the whole state at the handler's return, the interrupted code
/// sees these values.
/// Frames whose FP area did not describe itself as the kernel's own do:
/// with XSAVE, `UC_FP_XSTATE` in `uc_flags`, `FP_XSTATE_MAGIC1` and the
/// sizes in the area's `sw_reserved` bytes, `FP_XSTATE_MAGIC2` after it.
static BAD_FRAMES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

const UC_FP_XSTATE: u64 = 1;
const FP_XSTATE_MAGIC1: u32 = 0x4650_5853;
const FP_XSTATE_MAGIC2: u32 = 0x4650_5845;
/// Offset of `sw_reserved` in the FXSAVE area.
const SW_RESERVED_OFFSET: usize = 464;

/// Checks what the kernel says of the frame's FP area (x86_64 layout).
///
/// # Safety
/// `context` is the `ucontext_t` the kernel passed to an SA_SIGINFO handler.
unsafe fn frame_describes_xstate(context: *const libc::ucontext_t) -> bool {
    // SAFETY: by the caller's promise; the kernel put a valid fpregs
    // pointer in it, and the area it points to is as long as the
    // sw_reserved bytes say, plus the final marker.
    unsafe {
        let uc = &*context;
        let area = uc.uc_mcontext.fpregs as *const u8;
        if area.is_null() {
            return false;
        }
        let sw = area.add(SW_RESERVED_OFFSET) as *const u32;
        let magic1 = sw.read_unaligned();
        let extended_size = sw.add(1).read_unaligned() as usize;
        let xstate_size = sw.add(4).read_unaligned() as usize;
        uc.uc_flags & UC_FP_XSTATE != 0
            && magic1 == FP_XSTATE_MAGIC1
            && extended_size == xstate_size + 4
            && (area.add(xstate_size) as *const u32).read_unaligned() == FP_XSTATE_MAGIC2
    }
}

extern "C" fn clobber_handler(
    _sig: libc::c_int,
    _info: *mut libc::siginfo_t,
    context: *mut libc::c_void,
) {
    // Every CPU with AVX has XSAVE, and Linux then uses it for frames.
    if std::arch::is_x86_feature_detected!("avx") {
        // SAFETY: installed with SA_SIGINFO: the third argument is the
        // frame's ucontext.
        if !unsafe { frame_describes_xstate(context.cast()) } {
            BAD_FRAMES.fetch_add(1, Ordering::Relaxed);
        }
    }
    let level = Level::from_code(HANDLER_LEVEL.load(Ordering::Relaxed));
    let junk = Image::pattern(0xdead_beef);
    let mut sink = Image::zeroed();
    // SAFETY: the level was detected before the handler was installed;
    // getpid returns.
    unsafe { roundtrip(level, &junk, &mut sink, libc::SYS_getpid, [0; 3]) };
}

fn install_handler(level: Level) -> Result<(), String> {
    HANDLER_LEVEL.store(level.code(), Ordering::Relaxed);
    // SAFETY: a zeroed sigaction is valid; the handler is an extern "C" fn
    // with the three arguments SA_SIGINFO passes.
    let ret = unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = clobber_handler
            as extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void)
            as usize;
        action.sa_flags = libc::SA_SIGINFO;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(libc::SIGUSR1, &action, std::ptr::null_mut())
    };
    if ret != 0 {
        return Err(format!("sigaction: {}", std::io::Error::last_os_error()));
    }
    Ok(())
}

/// One thread's rounds: a sched_yield in the middle, and every eighth round
/// a signal to this very thread instead, whose handler overwrites all the
/// registers.
fn worker(level: Level, id: u64, rounds: u64) -> Result<u64, String> {
    // SAFETY: getpid and gettid take no arguments and cannot fail.
    let (pid, tid) = unsafe { (libc::getpid() as i64, libc::gettid() as i64) };
    let mut signals = 0;
    let mut got = Image::zeroed();
    for round in 0..rounds {
        let expected = Image::pattern(id << 32 | round);
        let (nr, args, what) = if round % 8 == 7 {
            signals += 1;
            (
                libc::SYS_tgkill,
                [pid, tid, libc::SIGUSR1 as i64],
                "a signal handler",
            )
        } else {
            (libc::SYS_sched_yield, [0; 3], "sched_yield()")
        };
        // SAFETY: the level was detected; both calls return here.
        let ret = unsafe { roundtrip(level, &expected, &mut got, nr, args) };
        if ret < 0 {
            return Err(format!(
                "thread {id}, round {round}: system call failed: {ret}"
            ));
        }
        expected
            .compare(&got, level)
            .map_err(|e| format!("thread {id}, round {round}, across {what}: {e}"))?;
    }
    Ok(signals)
}

/// Offset of xmm0 in struct user_fpregs_struct (the FXSAVE layout).
const FXSAVE_XMM_OFFSET: usize = 160;
const PTRACE_GETFPREGS: libc::c_uint = 14;
const PTRACE_SETFPREGS: libc::c_uint = 15;

/// A child loads a pattern into xmm0-15 and stops; the parent reads it with
/// PTRACE_GETFPREGS, flips bits in each register with PTRACE_SETFPREGS and
/// lets the child go on, which checks that it got the new values.
fn ptrace_check() -> Result<(), String> {
    let sent = Image::pattern(0x7072_6163_6500);
    let mut flipped = sent.clone();
    for byte in &mut flipped.vec[..16 * 16] {
        *byte ^= 0x5a;
    }
    // SAFETY: the child only makes system calls and exits with _exit.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(format!("fork: {}", std::io::Error::last_os_error()));
    }
    if pid == 0 {
        let mut got = Image::zeroed();
        // SAFETY: PTRACE_TRACEME takes no pointers; the kill stops this
        // process until the parent continues it.
        let ok = unsafe {
            libc::ptrace(libc::PTRACE_TRACEME, 0, 0, 0);
            let me = libc::getpid() as i64;
            roundtrip(
                Level::Sse,
                &sent,
                &mut got,
                libc::SYS_kill,
                [me, libc::SIGSTOP as i64, 0],
            );
            flipped.compare(&got, Level::Sse)
        };
        let code = match ok {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("uml-init: fpregs: after PTRACE_SETFPREGS, {e}");
                1
            }
        };
        // SAFETY: _exit ends the child without running the parent's atexit.
        unsafe { libc::_exit(code) };
    }

    let result = trace_child(pid, &sent, &flipped);
    let mut status = 0;
    if result.is_err() {
        // SAFETY: pid is our child.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    // SAFETY: reaping our own child.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    result?;
    if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        return Err(format!("the traced child failed (wait status {status:#x})"));
    }
    Ok(())
}

fn trace_child(pid: libc::pid_t, sent: &Image, flipped: &Image) -> Result<(), String> {
    let mut status = 0;
    // SAFETY: waiting for our own child.
    if unsafe { libc::waitpid(pid, &mut status, 0) } != pid
        || !libc::WIFSTOPPED(status)
        || libc::WSTOPSIG(status) != libc::SIGSTOP
    {
        return Err(format!(
            "the child did not stop for its tracer (wait status {status:#x})"
        ));
    }
    let mut area = [0u8; 512];
    // SAFETY: PTRACE_GETFPREGS writes a struct user_fpregs_struct (512 bytes).
    if unsafe { libc::ptrace(PTRACE_GETFPREGS, pid, 0, area.as_mut_ptr()) } != 0 {
        return Err(format!(
            "PTRACE_GETFPREGS: {}",
            std::io::Error::last_os_error()
        ));
    }
    let xmm = FXSAVE_XMM_OFFSET..FXSAVE_XMM_OFFSET + 16 * 16;
    if area[xmm.clone()] != sent.vec[..16 * 16] {
        return Err(format!(
            "PTRACE_GETFPREGS: xmm0 reads {}, the child loaded {}",
            hex(&area[FXSAVE_XMM_OFFSET..FXSAVE_XMM_OFFSET + 16]),
            hex(&sent.vec[..16])
        ));
    }
    // An MXCSR with a reserved bit set is refused, as Linux refuses it,
    // and the tracee lives on.
    const MXCSR_OFFSET: usize = 24;
    let mut bad = area;
    bad[MXCSR_OFFSET + 3] |= 0x80;
    // SAFETY: PTRACE_SETFPREGS reads 512 bytes.
    let ret = unsafe { libc::ptrace(PTRACE_SETFPREGS, pid, 0, bad.as_ptr()) };
    let err = std::io::Error::last_os_error();
    if ret != -1 || err.raw_os_error() != Some(libc::EINVAL) {
        return Err(format!(
            "PTRACE_SETFPREGS with a reserved MXCSR bit: {ret} ({err}), not EINVAL"
        ));
    }
    area[xmm].copy_from_slice(&flipped.vec[..16 * 16]);
    // SAFETY: PTRACE_SETFPREGS reads the same 512 bytes.
    if unsafe { libc::ptrace(PTRACE_SETFPREGS, pid, 0, area.as_ptr()) } != 0 {
        return Err(format!(
            "PTRACE_SETFPREGS: {}",
            std::io::Error::last_os_error()
        ));
    }
    // SAFETY: continue the stopped child without delivering the SIGSTOP.
    if unsafe { libc::ptrace(libc::PTRACE_CONT, pid, 0, 0) } != 0 {
        return Err(format!("PTRACE_CONT: {}", std::io::Error::last_os_error()));
    }
    Ok(())
}

/// Runs every check; the text says what was checked.
pub fn check(threads: u64, rounds: u64) -> Result<String, String> {
    let level = Level::detect();
    install_handler(level)?;
    let signals = std::thread::scope(|scope| {
        let workers: Vec<_> = (1..=threads)
            .map(|id| scope.spawn(move || worker(level, id, rounds)))
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|_| Err("a worker thread panicked".into()))
            })
            .sum::<Result<u64, String>>()
    })?;
    let bad_frames = BAD_FRAMES.load(Ordering::Relaxed);
    if bad_frames > 0 {
        return Err(format!(
            "{bad_frames} of {signals} signal frames did not describe their XSTATE area \
             (UC_FP_XSTATE, FP_XSTATE_MAGIC1 and sizes, FP_XSTATE_MAGIC2)"
        ));
    }
    ptrace_check()?;
    Ok(format!(
            "{}: {threads} threads x {rounds} rounds kept their registers across sched_yield() \
         and {signals} signal handlers, whose frames described their FP area as Linux does; \
         PTRACE_GETFPREGS/SETFPREGS read and wrote a stopped child's xmm registers and refused a bad MXCSR",
        level.name()
    ))
}
