//! Peak resident memory (VmHWM) of a process, from `/proc/<pid>/status`.

use anyhow::Context;

/// VmHWM (peak resident memory) of `pid` ("self" for this process), in KiB.
pub fn vm_hwm_kib(pid: &str) -> anyhow::Result<u64> {
    status_kib(pid, "VmHWM:")
}

/// VmRSS (resident memory now) of `pid`, in KiB.
pub fn vm_rss_kib(pid: &str) -> anyhow::Result<u64> {
    status_kib(pid, "VmRSS:")
}

fn status_kib(pid: &str, field: &str) -> anyhow::Result<u64> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    parse_field(&status, field).with_context(|| format!("no {field} line in {path}"))
}

fn parse_field(status: &str, field: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with(field))?;
    let mut parts = line[field.len()..].split_whitespace();
    let value: u64 = parts.next()?.parse().ok()?;
    match parts.next() {
        Some("kB") | None => Some(value),
        Some(_) => None,
    }
}

pub fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_status_line() {
        let status = "Name:\tegov-intake\nVmPeak:\t  900000 kB\nVmHWM:\t   51200 kB\nVmRSS:\t   40000 kB\n";
        assert_eq!(parse_field(status, "VmHWM:"), Some(51200));
        assert_eq!(parse_field(status, "VmRSS:"), Some(40000));
        assert_eq!(parse_field("Name:\tx\n", "VmHWM:"), None);
        assert!(vm_hwm_kib("self").unwrap() > 0);
        assert!(vm_rss_kib("self").unwrap() > 0);
        assert_eq!(mib(2048), 2.0);
    }
}
