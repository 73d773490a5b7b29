//! Device selection: `auto | cpu | cuda | cuda:N`. `auto` takes CUDA when
//! libtorch sees a GPU. The CPU path is the tested path; the CUDA path must run
//! unchanged on an NVIDIA machine.

use tch::{Cuda, Device};

use crate::{Error, Result};

/// Parses a device string and checks that the device exists.
pub fn parse(s: &str) -> Result<Device> {
    let cuda_count = || {
        if Cuda::is_available() {
            Cuda::device_count()
        } else {
            0
        }
    };
    match s {
        "auto" => Ok(Device::cuda_if_available()),
        "cpu" => Ok(Device::Cpu),
        "cuda" => parse("cuda:0"),
        _ => {
            let Some(idx) = s.strip_prefix("cuda:") else {
                return Err(Error::Usage(format!(
                    "unknown device '{s}': expected auto, cpu, cuda or cuda:N"
                )));
            };
            let idx: usize = idx.parse().map_err(|_| {
                Error::Usage(format!("bad device '{s}': N in cuda:N must be a number"))
            })?;
            let n = cuda_count();
            if (idx as i64) >= n {
                return Err(Error::Usage(format!(
                    "device '{s}' requested but libtorch sees {n} CUDA device(s)"
                )));
            }
            Ok(Device::Cuda(idx))
        }
    }
}

/// `cpu` or `cuda:N`, as recorded in results.
pub fn name(d: Device) -> String {
    match d {
        Device::Cuda(i) => format!("cuda:{i}"),
        Device::Mps => "mps".into(),
        Device::Vulkan => "vulkan".into(),
        _ => "cpu".into(),
    }
}

/// Waits for queued GPU work, so timings read the clock after it finished.
pub fn synchronize(d: Device) {
    if let Device::Cuda(i) = d {
        Cuda::synchronize(i as i64);
    }
}

/// The machine's physical memory in bytes (`MemTotal` of `/proc/meminfo`);
/// `None` where it cannot be read (not Linux).
pub fn host_memory_bytes() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kib: u64 = info
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))?
        .trim()
        .strip_suffix("kB")?
        .trim()
        .parse()
        .ok()?;
    kib.checked_mul(1024)
}
