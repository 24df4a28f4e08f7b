//! The seeded order generator shared by `examples/generate_orders.rs` and the benchmarks: orders for
//! the Alibaba legacy refund policy across every table row, about 1% of them invalid.

use std::io::Write;

/// Writes `count` orders, one JSON object a line; the same `seed` gives the same bytes.
pub fn write_orders(out: &mut impl Write, count: u64, seed: u64) -> std::io::Result<()> {
    let mut rng = Rng(seed.max(1));
    // Paid between 2018-03-01 and 2026-06-30.
    let (first, span) = (1_519_862_400i64, 265_000_000i64);
    for n in 0..count {
        let offset = [8, 0, -5][rng.below(3) as usize];
        let paid = first + rng.below(span as u64) as i64;
        let requested = paid + rng.below(40 * 86_400) as i64;
        let status = STATUSES[rng.below(STATUSES.len() as u64) as usize];
        let price = 10 + rng.below(2000);
        let mut line = format!(
            "{{\"id\":\"o{n:08}\",\"paid_at\":\"{}\",\"requested_at\":\"{}\",\"price\":\"{price}.{:02}\",\"status\":\"{status}\"",
            timestamp(paid, offset),
            timestamp(requested, offset),
            rng.below(100)
        );
        if rng.below(4) == 0 {
            line.push_str(&format!(",\"voucher\":\"{}.00\"", rng.below(price / 2 + 1)));
        }
        let issued = paid + rng.below(3 * 86_400) as i64;
        if matches!(status, "issued" | "revoking" | "revoked" | "expired") || rng.below(3) == 0 {
            line.push_str(&format!(",\"issued_at\":\"{}\"", timestamp(issued, offset)));
            line.push_str(&format!(
                ",\"expires_at\":\"{}\"",
                timestamp(issued + 365 * 86_400, offset)
            ));
        }
        if status == "revoked" {
            let revoked = issued + rng.below(40 * 86_400) as i64;
            line.push_str(&format!(
                ",\"revoked_at\":\"{}\"",
                timestamp(revoked, offset)
            ));
        }
        if rng.below(50) == 0 {
            line.push_str(",\"free\":true");
        }
        line.push('}');
        match rng.below(100) {
            0 => line = line.replace("+08:00\"", "\""),
            1 => line.truncate(line.len() / 2),
            _ => {}
        }
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// xorshift64*: small, seeded, good enough for test data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const STATUSES: [&str; 8] = [
    "pending_application",
    "verifying",
    "validation_failed",
    "validated",
    "issued",
    "revoking",
    "revoked",
    "expired",
];

fn timestamp(seconds: i64, offset_hours: i64) -> String {
    let local = seconds + offset_hours * 3600;
    let days = local.div_euclid(86_400);
    let secs = local.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let offset = match offset_hours {
        0 => "Z".to_string(),
        h => format!("{}{:02}:00", if h < 0 { '-' } else { '+' }, h.abs()),
    };
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}{offset}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}
