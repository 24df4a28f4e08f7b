//! The example batches under `examples/` (for the policies of `policies/` and `examples/policies/`),
//! run through the `policy` binary: one output line per input line, error records exactly at the
//! invalid lines (with the right `line`, `order` and the field at fault), decisions with the line's id
//! everywhere else, every rule of the policy hit, and a non-zero exit because of the invalid lines.
//! `examples/orders.jsonl`, all valid, exits 0.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

struct Batch {
    file: &'static str,
    policy: &'static str,
    /// The folder of the policy file: `policies` (the five documents) or `examples/policies`.
    folder: &'static str,
    action: &'static str,
    /// (line, a piece of the error message: the field or the problem at fault).
    invalid: &'static [(usize, &'static str)],
    /// Every rule of the action, each hit by at least one line.
    rules: &'static [&'static str],
}

const BATCHES: [Batch; 8] = [
    Batch {
        file: "huawei-scm-unsubscribe.jsonl",
        policy: "huawei-scm-unsubscribe",
        folder: "policies",
        action: "refund",
        invalid: &[
            (4, "`purchased_on`"),
            (21, "`paid_at`"),
            (23, "`status`"),
            (28, "`price`"),
            (34, "vouchers plus coupons exceed the price"),
            (35, "`id`"),
            (42, "JSON"),
        ],
        rules: &[
            "not_purchased_on_console",
            "window_closed",
            "pending_application",
            "revoked_in_window",
            "revoked_too_late",
            "application_in_progress",
            "withdrawal_in_progress",
            "issued",
            "revoking",
            "other_status",
        ],
    },
    Batch {
        file: "huawei-scm-withdraw.jsonl",
        policy: "huawei-scm-withdraw",
        folder: "policies",
        action: "withdraw",
        invalid: &[
            (4, "`status`"),
            (9, "`status`"),
            (26, "`requested_at`"),
            (33, "`status`"),
            (45, "`id`"),
            (54, "JSON"),
        ],
        rules: &[
            "application_in_progress",
            "deletion_or_revocation",
            "other_status",
        ],
    },
    Batch {
        file: "alibaba-ssl-refund-legacy.jsonl",
        policy: "alibaba-ssl-refund-legacy",
        folder: "policies",
        action: "refund",
        invalid: &[
            (19, "`issued_at`"),
            (22, "`price`"),
            (25, "`requested_at`"),
            (26, "`status`"),
            (27, "`price`"),
            (40, "vouchers plus coupons exceed the price"),
            (44, "`id`"),
            (58, "JSON"),
        ],
        rules: &[
            "free_certificate",
            "expired",
            "unissued_within_5_days",
            "unissued_after_5_days",
            "unissued_near_expiry",
            "revoked_within_28_days",
            "issued_within_28_days",
            "revoking_within_28_days",
            "issued_after_28_days",
            "validated_not_issued",
        ],
    },
    Batch {
        file: "alibaba-cms-refund-2026.jsonl",
        policy: "alibaba-cms-refund-2026",
        folder: "policies",
        action: "refund",
        invalid: &[
            (3, "consumed GRCQ exceed the GRCQ bought"),
            (12, "`grcq_total`"),
            (19, "`status`"),
            (23, "`paid_at`"),
            (24, "`service`"),
            (34, "vouchers plus coupons exceed the price"),
            (37, "`id`"),
            (48, "JSON"),
        ],
        rules: &[
            "promotional_order",
            "window_closed",
            "ssl_combined",
            "ssl_pending_application",
            "ssl_request_initiated",
            "ssl_issued",
            "ssl_revoking",
            "ssl_revoked_in_window",
            "ssl_revoked_too_late",
            "ssl_expired",
            "gateway_unused",
            "gateway_no_grcq_consumed",
            "gateway_grcq_consumed",
            "pca_not_enabled",
            "pca_reset_in_window",
            "pca_reset_too_late",
            "pca_enabled_not_reset",
            "other_service_unused",
            "other_service_used",
        ],
    },
    Batch {
        file: "alibaba-ssl-revoke.revoke.jsonl",
        policy: "alibaba-ssl-revoke",
        folder: "policies",
        action: "revoke",
        invalid: &[
            (5, "`issued_at`"),
            (22, "`cert_type`"),
            (26, "`issued_at`"),
            (38, "`status`"),
            (45, "calendar `cn`"),
            (51, "`id`"),
            (53, "JSON"),
        ],
        rules: &[
            "uploaded",
            "not_issued_or_expired",
            "issued_ov_ev",
            "issued_dv",
        ],
    },
    Batch {
        file: "alibaba-ssl-revoke.delete.jsonl",
        policy: "alibaba-ssl-revoke",
        folder: "policies",
        action: "delete",
        invalid: &[
            (11, "`status`"),
            (17, "`status`"),
            (20, "`issued_at`"),
            (29, "`cert_type`"),
            (37, "`uploaded`"),
            (42, "`id`"),
            (54, "JSON"),
        ],
        rules: &["revoked", "not_revoked"],
    },
    Batch {
        file: "us-cert-reseller-refund.jsonl",
        policy: "us-cert-reseller-refund",
        folder: "examples/policies",
        action: "refund",
        invalid: &[
            (4, "`paid_at`"),
            (11, "`sku`"),
            (19, "`issued_at`"),
            (26, "`price`"),
            (33, "the store credit used exceeds the price"),
            (40, "`status`"),
            (47, "calendar `us_federal`"),
            (52, "`id`"),
            (59, "JSON"),
        ],
        rules: &[
            "final_sale",
            "former_terms",
            "expired",
            "unissued_within_90_days",
            "unissued_store_credit",
            "unissued_abandoned",
            "cancelled",
            "revoked_in_window",
            "revoked_late",
            "issued_within_15_days",
            "issued_pro_rata",
            "issued_last_year",
        ],
    },
    Batch {
        file: "eu-hosting-withdrawal.jsonl",
        policy: "eu-hosting-withdrawal",
        folder: "examples/policies",
        action: "refund",
        invalid: &[
            (5, "`term_ends_on`"),
            (13, "`customer`"),
            (21, "the term ends before the contract starts"),
            (30, "the promotional credit exceeds the price"),
            (38, "`contract_at`"),
            (41, "`id`"),
            (46, "`service_started`"),
            (55, "JSON"),
        ],
        rules: &[
            "abuse",
            "terminated",
            "domain_registered",
            "withdrawal",
            "withdrawal_after_start",
            "business_test_period",
            "annual_pro_rata",
            "monthly_plan",
            "annual_term_ending",
        ],
    },
];

fn eval(batch: &Batch) -> Output {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // No --at: every order carries requested_at.
    Command::new(env!("CARGO_BIN_EXE_policy"))
        .current_dir(root)
        .args(["eval", "--policy"])
        .arg(format!("{}/{}.policy", batch.folder, batch.policy))
        .args(["--action", batch.action, "--orders"])
        .arg(format!("examples/{}", batch.file))
        .output()
        .expect("the policy binary runs")
}

/// The input line's id: its string `id` when the line is a JSON object that has one, else null.
fn input_id(line: &str) -> Value {
    serde_json::from_str::<Value>(line)
        .ok()
        .and_then(|v| v.get("id").filter(|id| id.is_string()).cloned())
        .unwrap_or(Value::Null)
}

fn check_batch(batch: &Batch) {
    let name = batch.file;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let input = std::fs::read_to_string(root.join("examples").join(name)).expect("example file");
    let input: Vec<&str> = input.lines().collect();
    assert!(input.len() >= 50, "{name}: at least 50 orders");
    assert!(
        batch.invalid.len() * 100 >= input.len() * 8
            && batch.invalid.len() * 100 <= input.len() * 15,
        "{name}: about 10% invalid"
    );

    let output = eval(batch);
    let stdout = String::from_utf8(output.stdout).expect("utf-8");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines.len(),
        input.len(),
        "{name}: one output line per input line\nstderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        !output.status.success(),
        "{name}: the invalid lines make the exit status non-zero"
    );

    let mut rules = BTreeSet::new();
    for (k, (order_line, out_line)) in input.iter().zip(&lines).enumerate() {
        let k = k + 1;
        let out: Value = serde_json::from_str(out_line)
            .unwrap_or_else(|e| panic!("{name}:{k}: output is not JSON ({e}): {out_line}"));
        let id = input_id(order_line);
        // Lines with a string id are numbered by it: `prefix-000k`.
        if let Some(id) = id.as_str() {
            assert!(
                id.ends_with(&format!("-{k:04}")),
                "{name}:{k}: id `{id}` numbers its line"
            );
        }
        assert_eq!(out["order"], id, "{name}:{k}: order is the line's id");
        match batch.invalid.iter().find(|(line, _)| *line == k) {
            Some((_, fault)) => {
                let error = out["error"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{name}:{k}: expected an error record, got {out}"));
                assert_eq!(out["line"], k, "{name}:{k}: the error names its line");
                assert!(
                    error.contains(fault),
                    "{name}:{k}: the error should name {fault}: {error}"
                );
                assert!(out.get("outcome").is_none(), "{name}:{k}: {out}");
            }
            None => {
                assert!(
                    out.get("error").is_none(),
                    "{name}:{k}: unexpected error: {out}"
                );
                assert_eq!(out["policy"], batch.policy, "{name}:{k}");
                assert_eq!(out["action"], batch.action, "{name}:{k}");
                assert!(out["outcome"].is_string(), "{name}:{k}: {out}");
                rules.insert(out["rule"].as_str().expect("rule").to_string());
            }
        }
    }
    let expected: BTreeSet<String> = batch.rules.iter().map(|r| r.to_string()).collect();
    assert_eq!(rules, expected, "{name}: every rule hit, and no other");
}

#[test]
fn huawei_scm_unsubscribe_batch() {
    check_batch(&BATCHES[0]);
}

#[test]
fn huawei_scm_withdraw_batch() {
    check_batch(&BATCHES[1]);
}

#[test]
fn alibaba_ssl_refund_legacy_batch() {
    check_batch(&BATCHES[2]);
}

#[test]
fn alibaba_cms_refund_2026_batch() {
    check_batch(&BATCHES[3]);
}

#[test]
fn alibaba_ssl_revoke_revoke_batch() {
    check_batch(&BATCHES[4]);
}

#[test]
fn alibaba_ssl_revoke_delete_batch() {
    check_batch(&BATCHES[5]);
}

#[test]
fn us_cert_reseller_refund_batch() {
    check_batch(&BATCHES[6]);
}

#[test]
fn eu_hosting_withdrawal_batch() {
    check_batch(&BATCHES[7]);
}

#[test]
fn every_example_file_is_covered() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("examples/")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".jsonl") && n != "orders.jsonl")
        .collect();
    files.sort();
    let mut covered: Vec<String> = BATCHES.iter().map(|b| b.file.to_string()).collect();
    covered.sort();
    assert_eq!(files, covered);
}

#[test]
fn orders_jsonl_is_all_valid() {
    let output = eval(&Batch {
        file: "orders.jsonl",
        policy: "alibaba-ssl-refund-legacy",
        folder: "policies",
        action: "refund",
        invalid: &[],
        rules: &[],
    });
    assert!(
        output.status.success(),
        "exit status {:?}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let input = std::fs::read_to_string(root.join("examples/orders.jsonl")).expect("orders.jsonl");
    let stdout = String::from_utf8(output.stdout).expect("utf-8");
    assert_eq!(stdout.lines().count(), input.lines().count());
    for (order_line, out_line) in input.lines().zip(stdout.lines()) {
        let out: Value = serde_json::from_str(out_line).expect("JSON");
        assert!(out.get("error").is_none(), "{out}");
        assert_eq!(out["order"], input_id(order_line));
        assert_eq!(out["policy"], "alibaba-ssl-refund-legacy");
    }
}
