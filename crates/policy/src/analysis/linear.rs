//! Feasibility of small systems of linear inequalities over the integers, with a witness.
//!
//! Fourier–Motzkin elimination: exact over the rationals, and for the unit-coefficient systems that
//! guards produce (differences of times, dates, amounts) a rational solution rounds to an integer one;
//! back-substitution picks, variable by variable, the value nearest a preferred one, so witnesses read
//! naturally. "Infeasible" is a proof (every step keeps every integer solution); "feasible" comes with
//! integer values that meet every row; anything else is "unknown".
//!
//! Rows with the same coefficients keep only the tightest (a table of `x == K` rules gives many bounds
//! on one `x`), and each elimination step is paid for out of the caller's work count.

use std::collections::HashMap;

/// `Σ coeff·x + constant ≤ 0`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inequality {
    pub coeffs: Vec<(usize, i128)>,
    pub constant: i128,
}

impl Inequality {
    /// The row's negation over the integers: `Σ coeff·x + constant ≥ 1` (`None` if it overflows).
    pub fn negated(&self) -> Option<Inequality> {
        Some(Inequality {
            coeffs: self
                .coeffs
                .iter()
                .map(|(v, c)| Some((*v, c.checked_neg()?)))
                .collect::<Option<_>>()?,
            constant: 1i128.checked_sub(self.constant)?,
        })
    }
}

/// Beyond this many inequalities an elimination step is abandoned: the answer is "unknown".
const MAX_ROWS: usize = 4000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Solution {
    /// Feasible, with integer values for every variable.
    Feasible(Vec<i128>),
    Infeasible,
    /// Too large, or arithmetic overflowed: treated as feasible by callers, without a witness.
    Unknown,
}

/// A row read as a bound on its *form*: the coefficients divided by their gcd, the first one positive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bound {
    pub form: Vec<(usize, i128)>,
    /// `form ≤ value` if upper, else `form ≥ value`.
    pub upper: bool,
    pub value: i128,
}

/// The bound a row sets on its form (`None` for a row without variables).
pub fn bound_of(row: &Inequality) -> Option<Bound> {
    let mut coeffs: Vec<(usize, i128)> = row
        .coeffs
        .iter()
        .copied()
        .filter(|(_, c)| *c != 0)
        .collect();
    coeffs.sort_by_key(|(v, _)| *v);
    let first = coeffs.first()?.1;
    let g = coeffs.iter().fold(0, |g, (_, c)| gcd(g, *c));
    let sign = first.signum();
    let form = coeffs
        .iter()
        .map(|(v, c)| Some((*v, c.checked_div(g.checked_mul(sign)?)?)))
        .collect::<Option<_>>()?;
    // sign·g·form ≤ -constant, so sign·form ≤ floor(-constant / g)
    let limit = row.constant.checked_neg()?.div_euclid(g);
    Some(if sign > 0 {
        Bound {
            form,
            upper: true,
            value: limit,
        }
    } else {
        Bound {
            form,
            upper: false,
            value: limit.checked_neg()?,
        }
    })
}

fn gcd(a: i128, b: i128) -> i128 {
    // i128::MIN has no absolute value; the gcd with it is taken as 1 (no division: still sound).
    let (Some(mut a), Some(mut b)) = (a.checked_abs(), b.checked_abs()) else {
        return 1;
    };
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// The row with its coefficients divided by their gcd (`None` if that overflows).
fn normalize(mut row: Inequality) -> Option<Inequality> {
    row.coeffs.retain(|(_, c)| *c != 0);
    row.coeffs.sort_by_key(|(v, _)| *v);
    let g = row.coeffs.iter().fold(0, |g, (_, c)| gcd(g, *c));
    if g > 1 {
        for (_, c) in &mut row.coeffs {
            *c /= g;
        }
        // Σ (a/g) x ≤ -c/g, and over the integers the right side may be floored.
        row.constant = row.constant.checked_neg()?.div_euclid(g).checked_neg()?;
    }
    Some(row)
}

/// Keeps, of the rows with the same coefficients, the tightest; `None` if a row without variables is
/// false.
fn tightest(rows: Vec<Inequality>) -> Option<Vec<Inequality>> {
    let mut index: HashMap<Vec<(usize, i128)>, usize> = HashMap::with_capacity(rows.len());
    let mut kept: Vec<Inequality> = Vec::with_capacity(rows.len());
    for row in rows {
        if row.coeffs.is_empty() {
            if row.constant > 0 {
                return None;
            }
            continue;
        }
        match index.get(&row.coeffs) {
            Some(&i) => kept[i].constant = kept[i].constant.max(row.constant),
            None => {
                index.insert(row.coeffs.clone(), kept.len());
                kept.push(row);
            }
        }
    }
    Some(kept)
}

fn coefficient(row: &Inequality, var: usize) -> i128 {
    row.coeffs
        .iter()
        .find(|(v, _)| *v == var)
        .map_or(0, |(_, c)| *c)
}

/// Combines `p` (coefficient `a > 0` on `var`) and `n` (coefficient `b < 0`) so that `var` cancels.
fn combine(p: &Inequality, n: &Inequality, var: usize) -> Option<Inequality> {
    let a = coefficient(p, var);
    let b = coefficient(n, var).checked_neg()?;
    let g = gcd(a, b);
    let (a, b) = (a / g, b / g);
    let mut coeffs: Vec<(usize, i128)> = Vec::new();
    for (v, c) in p.coeffs.iter().filter(|(v, _)| *v != var) {
        coeffs.push((*v, c.checked_mul(b)?));
    }
    for (v, c) in n.coeffs.iter().filter(|(v, _)| *v != var) {
        let scaled = c.checked_mul(a)?;
        match coeffs.iter_mut().find(|(w, _)| w == v) {
            Some((_, existing)) => *existing = existing.checked_add(scaled)?,
            None => coeffs.push((*v, scaled)),
        }
    }
    let constant = p
        .constant
        .checked_mul(b)?
        .checked_add(n.constant.checked_mul(a)?)?;
    normalize(Inequality { coeffs, constant })
}

/// Steps for `pick`: a value that is a multiple of `whole` is taken as it is; else the coarsest of `grains`
/// (largest first) that fits.
#[derive(Debug, Clone, Copy)]
pub struct Grains {
    pub whole: i128,
    pub grains: &'static [i128],
}

/// The value nearest `preferred` within `[low, high]`; if that is a bound finer than `whole` (a
/// nanosecond before midnight), the value nearest `preferred` in the coarsest grain that fits
/// (`preferred ± k·grain`), so that witnesses read `10:00:00.1` rather than `23:59:59.999999999`.
fn pick(preferred: i128, low: i128, high: i128, grains: Grains) -> i128 {
    let nearest = preferred.clamp(low, high);
    if nearest == preferred || grains.whole <= 1 || nearest % grains.whole == 0 {
        return nearest;
    }
    for &grain in grains.grains {
        // preferred ∓ ceil(distance / grain)·grain
        let step = |distance: Option<i128>| -> Option<i128> {
            let steps = distance?.checked_add(grain - 1)?.div_euclid(grain);
            steps.checked_mul(grain)
        };
        let candidate = if preferred > high {
            step(preferred.checked_sub(high)).and_then(|d| preferred.checked_sub(d))
        } else {
            step(low.checked_sub(preferred)).and_then(|d| preferred.checked_add(d))
        };
        if let Some(v) = candidate.filter(|v| (low..=high).contains(v)) {
            return v;
        }
    }
    nearest
}

/// Solves `rows` over `count` variables, preferring `preferred[i]` for variable `i` (in steps of
/// `grains[i]`, see `pick`); adds the rows it handled to `work`.
pub fn solve(
    rows: &[Inequality],
    count: usize,
    preferred: &[i128],
    grains: &[Grains],
    work: &mut u64,
) -> Solution {
    *work += rows.len() as u64;
    let Some(normalized) = rows
        .iter()
        .cloned()
        .map(normalize)
        .collect::<Option<Vec<_>>>()
    else {
        return Solution::Unknown;
    };
    let Some(mut current) = tightest(normalized) else {
        return Solution::Infeasible;
    };
    // levels[v]: the rows that bound v once every variable after it is eliminated.
    let mut levels: Vec<Vec<Inequality>> = vec![Vec::new(); count];
    for var in (0..count).rev() {
        let (with, without): (Vec<_>, Vec<_>) =
            current.into_iter().partition(|r| coefficient(r, var) != 0);
        let (pos, neg): (Vec<_>, Vec<_>) = with.iter().partition(|r| coefficient(r, var) > 0);
        let mut next = without;
        for p in &pos {
            for n in &neg {
                let Some(row) = combine(p, n, var) else {
                    return Solution::Unknown;
                };
                next.push(row);
            }
            *work += neg.len() as u64;
            if next.len() > MAX_ROWS {
                return Solution::Unknown;
            }
        }
        let Some(kept) = tightest(next) else {
            return Solution::Infeasible;
        };
        levels[var] = with;
        current = kept;
    }
    let mut values = vec![0i128; count];
    for var in 0..count {
        let (mut low, mut high) = (i128::MIN, i128::MAX);
        for row in &levels[var] {
            let a = coefficient(row, var);
            // a·x + rest ≤ 0 with every other variable of the row already valued.
            let mut rest = row.constant;
            for (v, c) in &row.coeffs {
                if *v != var {
                    let Some(term) = c.checked_mul(values[*v]) else {
                        return Solution::Unknown;
                    };
                    let Some(sum) = rest.checked_add(term) else {
                        return Solution::Unknown;
                    };
                    rest = sum;
                }
            }
            let Some(minus_rest) = rest.checked_neg() else {
                return Solution::Unknown;
            };
            if a > 0 {
                high = high.min(minus_rest.div_euclid(a));
            } else {
                // x ≥ rest / |a|, rounded up.
                let Some(bound) = a
                    .checked_neg()
                    .and_then(|positive| minus_rest.div_euclid(positive).checked_neg())
                else {
                    return Solution::Unknown;
                };
                low = low.max(bound);
            }
        }
        if low > high {
            // Feasible over the rationals, but no integer fits here.
            return Solution::Unknown;
        }
        values[var] = pick(
            preferred.get(var).copied().unwrap_or(0),
            low,
            high,
            grains.get(var).copied().unwrap_or(Grains {
                whole: 1,
                grains: &[],
            }),
        );
    }
    Solution::Feasible(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(coeffs: &[(usize, i128)], constant: i128) -> Inequality {
        Inequality {
            coeffs: coeffs.to_vec(),
            constant,
        }
    }

    fn satisfies(rows: &[Inequality], values: &[i128]) -> bool {
        rows.iter()
            .all(|r| r.coeffs.iter().map(|(v, c)| c * values[*v]).sum::<i128>() + r.constant <= 0)
    }

    #[test]
    fn finds_a_witness_near_the_preferred_values() {
        // x - y ≤ -5 (x + 5 ≤ y), y ≤ 20, x ≥ 0
        let rows = [
            row(&[(0, 1), (1, -1)], 5),
            row(&[(1, 1)], -20),
            row(&[(0, -1)], 0),
        ];
        let Solution::Feasible(values) = solve(&rows, 2, &[10, 0], &[], &mut 0) else {
            panic!("feasible");
        };
        assert!(satisfies(&rows, &values), "{values:?}");
        assert_eq!(values[0], 10);
    }

    #[test]
    fn detects_contradictions() {
        // x ≤ 5 and x ≥ 6
        let rows = [row(&[(0, 1)], -5), row(&[(0, -1)], 6)];
        assert_eq!(solve(&rows, 1, &[0], &[], &mut 0), Solution::Infeasible);
        // x - y ≤ 0, y - z ≤ 0, z - x ≤ -1: a cycle of negative weight
        let rows = [
            row(&[(0, 1), (1, -1)], 0),
            row(&[(1, 1), (2, -1)], 0),
            row(&[(2, 1), (0, -1)], 1),
        ];
        assert_eq!(
            solve(&rows, 3, &[0, 0, 0], &[], &mut 0),
            Solution::Infeasible
        );
    }

    #[test]
    fn handles_sums_of_three() {
        // a + b - p ≤ 0, p ≤ 100, a ≥ 60, b ≥ 50: infeasible; with b ≥ 40 feasible.
        let base = [
            row(&[(0, 1), (1, 1), (2, -1)], 0),
            row(&[(2, 1)], -100),
            row(&[(0, -1)], 60),
        ];
        let mut rows = base.to_vec();
        rows.push(row(&[(1, -1)], 50));
        assert_eq!(
            solve(&rows, 3, &[0, 0, 0], &[], &mut 0),
            Solution::Infeasible
        );
        let mut rows = base.to_vec();
        rows.push(row(&[(1, -1)], 40));
        let Solution::Feasible(values) = solve(&rows, 3, &[0, 0, 0], &[], &mut 0) else {
            panic!("feasible");
        };
        assert!(satisfies(&rows, &values), "{values:?}");
    }

    #[test]
    fn dates_and_instants_couple_exactly() {
        // d·86400 - 28800 ≤ t ≤ d·86400 + 86399 - 28800 and t ≥ 1000000: the day of t in UTC+8.
        let rows = [
            row(&[(1, 86_400), (0, -1)], -28_800),
            row(&[(0, 1), (1, -86_400)], -86_399 + 28_800),
            row(&[(0, -1)], 1_000_000),
        ];
        let Solution::Feasible(values) = solve(&rows, 2, &[0, 0], &[], &mut 0) else {
            panic!("feasible");
        };
        assert!(satisfies(&rows, &values), "{values:?}");
        assert_eq!(values[1], (values[0] + 28_800).div_euclid(86_400));
    }

    #[test]
    fn extreme_rows_are_unknown_not_a_panic() {
        let rows = [
            row(&[(0, i128::MIN)], i128::MIN),
            row(&[(0, 1), (1, i128::MAX)], i128::MAX),
            row(&[(1, -1)], i128::MIN),
        ];
        let _ = solve(&rows, 2, &[0, 0], &[], &mut 0);
        assert_eq!(row(&[(0, i128::MIN)], 0).negated(), None);
        assert_eq!(row(&[(0, 1)], i128::MIN).negated(), None);
        assert!(bound_of(&row(&[(0, -1)], i128::MIN)).is_none());
        let grains = Grains {
            whole: 10,
            grains: &[i128::MAX, 7],
        };
        let _ = pick(i128::MAX, i128::MIN, i128::MIN + 3, grains);
        let _ = pick(i128::MIN, i128::MAX - 3, i128::MAX, grains);
    }
}
