//! Scores and letter grades from findings.
//!
//! Two axes, Maintenance and Security, each get a score from 0 to 100 and a
//! letter; the overall grade is the weaker of the two.
//!
//! # The formula
//!
//! Every rule with findings on an axis costs that axis a penalty:
//!
//! - its **base** by severity: **high 25, medium 12, low 5** points, taken
//!   from the rule's most severe finding;
//! - the base for its first finding, plus **a quarter of the base for each
//!   further finding** of the same rule;
//! - **capped at twice the base** per rule.
//!
//! So repeats of one rule weigh less than distinct rules: five findings of
//! one medium rule cost 12 + 4 × 3 = 24 points, five distinct medium rules
//! cost 60.
//!
//! **Axis score** = max(0, 100 − sum of the axis's penalties), rounded to the
//! nearest integer (halves round up: 92.5 → 93).
//!
//! **Overall score** = the lower of the two axis scores (the weakest link).
//!
//! **Bands**, for every score: **A ≥ 90, B ≥ 80, C ≥ 70, D ≥ 60, else F.**
//!
//! The terminal summary, the JSON summary, the SARIF run properties and the
//! GitHub annotations all show these numbers; suppressed findings are not
//! counted (they are not in the report), and neither are unused-suppression
//! reports (MCP001), which are about the audit's config, not the server.

use crate::finding::{Axis, Finding, Severity};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// A letter grade. Ordered from worst to best: `F < D < C < B < A`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Letter {
    F,
    D,
    C,
    B,
    A,
}

impl Letter {
    /// The band a score falls in: A ≥ 90, B ≥ 80, C ≥ 70, D ≥ 60, else F.
    pub fn from_score(score: u32) -> Letter {
        match score {
            90.. => Letter::A,
            80..=89 => Letter::B,
            70..=79 => Letter::C,
            60..=69 => Letter::D,
            _ => Letter::F,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Letter::A => "A",
            Letter::B => "B",
            Letter::C => "C",
            Letter::D => "D",
            Letter::F => "F",
        }
    }
}

impl fmt::Display for Letter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Letter {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_uppercase().as_str() {
            "A" => Ok(Letter::A),
            "B" => Ok(Letter::B),
            "C" => Ok(Letter::C),
            "D" => Ok(Letter::D),
            "F" => Ok(Letter::F),
            _ => Err(format!("{s:?} is not a grade (A, B, C, D or F)")),
        }
    }
}

/// A score from 0 to 100 and its letter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Grade {
    pub score: u32,
    pub grade: Letter,
}

impl Grade {
    pub fn from_score(score: u32) -> Grade {
        Grade {
            score,
            grade: Letter::from_score(score),
        }
    }
}

impl Default for Grade {
    fn default() -> Self {
        Grade::from_score(100)
    }
}

impl fmt::Display for Grade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.grade, self.score)
    }
}

/// The grades of a report. Serialized as
/// `{"maintenance": {"score": 76, "grade": "C"}, "security": {..}, "overall": {..}}`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Grades {
    pub maintenance: Grade,
    pub security: Grade,
    pub overall: Grade,
}

impl Grades {
    /// `Maintenance C (76), Security A (100), overall C (76)`.
    pub fn one_line(&self) -> String {
        format!(
            "Maintenance {}, Security {}, overall {}",
            self.maintenance, self.security, self.overall
        )
    }
}

/// The base penalty of a rule, by the severity of its most severe finding.
pub fn base_penalty(severity: Severity) -> u32 {
    match severity {
        Severity::High => 25,
        Severity::Medium => 12,
        Severity::Low => 5,
    }
}

/// A rule's penalty in quarter points (exact: a quarter of any base is a
/// whole number of quarters): 4 × base for the first finding, + base for
/// each further one, at most 8 × base.
fn rule_penalty_quarters(severity: Severity, findings: usize) -> u32 {
    if findings == 0 {
        return 0;
    }
    let base = base_penalty(severity);
    let further = u32::try_from(findings - 1).unwrap_or(u32::MAX);
    (4 * base)
        .saturating_add(base.saturating_mul(further))
        .min(8 * base)
}

/// max(0, 100 − penalty), rounded half up, from a penalty in quarter points.
fn score_from_quarters(penalty_quarters: u32) -> u32 {
    let remaining = 400u32.saturating_sub(penalty_quarters);
    (remaining + 2) / 4
}

/// The grades of a set of findings (see the module docs for the formula).
pub fn grade(findings: &[Finding]) -> Grades {
    // (axis, rule) → (most severe finding, count)
    let mut rules: BTreeMap<(Axis, &str), (Severity, usize)> = BTreeMap::new();
    // Unused suppressions are about the audit's own config, not the server.
    for f in findings
        .iter()
        .filter(|f| f.rule_id != crate::suppress::UNUSED_ID)
    {
        let e = rules.entry((f.axis, f.rule_id)).or_insert((f.severity, 0));
        e.0 = e.0.max(f.severity);
        e.1 += 1;
    }
    let axis = |a: Axis| {
        let quarters: u32 = rules
            .iter()
            .filter(|((ax, _), _)| *ax == a)
            .map(|(_, (sev, n))| rule_penalty_quarters(*sev, *n))
            .fold(0, u32::saturating_add);
        Grade::from_score(score_from_quarters(quarters))
    };
    let maintenance = axis(Axis::Maintenance);
    let security = axis(Axis::Security);
    Grades {
        maintenance,
        security,
        overall: Grade::from_score(maintenance.score.min(security.score)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::Span;
    use crate::finding::Location;

    fn f(rule: &'static str, axis: Axis, severity: Severity) -> Finding {
        Finding {
            rule_id: rule,
            rule_name: "test-rule",
            axis,
            severity,
            location: Location {
                path: "a.py".into(),
                span: Span::default(),
            },
            message: String::new(),
            help: String::new(),
            related: Vec::new(),
            flow: Vec::new(),
            left_out: None,
            fix: None,
            fingerprint: String::new(),
        }
    }

    fn many(rule: &'static str, axis: Axis, severity: Severity, n: usize) -> Vec<Finding> {
        (0..n).map(|_| f(rule, axis, severity)).collect()
    }

    const M: Axis = Axis::Maintenance;
    const S: Axis = Axis::Security;

    #[test]
    fn no_findings_is_a_clean_a() {
        let g = grade(&[]);
        for x in [g.maintenance, g.security, g.overall] {
            assert_eq!(x, Grade::from_score(100));
            assert_eq!(x.grade, Letter::A);
        }
        assert_eq!(Grades::default(), g);
    }

    #[test]
    fn one_finding_costs_its_base() {
        assert_eq!(grade(&[f("X", M, Severity::High)]).maintenance.score, 75);
        assert_eq!(grade(&[f("X", M, Severity::Medium)]).maintenance.score, 88);
        assert_eq!(grade(&[f("X", M, Severity::Low)]).maintenance.score, 95);
    }

    #[test]
    fn bands_at_their_boundaries() {
        for (score, letter) in [
            (100, Letter::A),
            (90, Letter::A),
            (89, Letter::B),
            (80, Letter::B),
            (79, Letter::C),
            (70, Letter::C),
            (69, Letter::D),
            (60, Letter::D),
            (59, Letter::F),
            (0, Letter::F),
        ] {
            assert_eq!(Letter::from_score(score), letter, "{score}");
        }
        // Two low rules: 90, still an A; a third: 85, a B.
        let two = [f("X", M, Severity::Low), f("Y", M, Severity::Low)];
        assert_eq!(grade(&two).maintenance, Grade::from_score(90));
        assert_eq!(grade(&two).maintenance.grade, Letter::A);
        let three = [
            f("X", M, Severity::Low),
            f("Y", M, Severity::Low),
            f("Z", M, Severity::Low),
        ];
        assert_eq!(grade(&three).maintenance.grade, Letter::B);
        // High + low = 70: the bottom of C.
        let c = [f("X", M, Severity::High), f("Y", M, Severity::Low)];
        assert_eq!(grade(&c).maintenance, Grade::from_score(70));
        assert_eq!(grade(&c).maintenance.grade, Letter::C);
    }

    #[test]
    fn repeats_weigh_less_than_distinct_rules() {
        // One medium rule five times: 12 + 4 × 3 = 24.
        assert_eq!(
            grade(&many("X", M, Severity::Medium, 5)).maintenance.score,
            76
        );
        // Five distinct medium rules: 60.
        let distinct: Vec<_> = ["A", "B", "C", "D", "E"]
            .into_iter()
            .map(|r| f(r, M, Severity::Medium))
            .collect();
        assert_eq!(grade(&distinct).maintenance.score, 40);
    }

    #[test]
    fn quarters_round_half_up() {
        // Low: 5 + 1.25 = 6.25 → 93.75 → 94; 5 + 2.5 = 7.5 → 92.5 → 93.
        assert_eq!(grade(&many("X", M, Severity::Low, 2)).maintenance.score, 94);
        assert_eq!(grade(&many("X", M, Severity::Low, 3)).maintenance.score, 93);
        // High: 25 + 6.25 = 31.25 → 68.75 → 69.
        assert_eq!(
            grade(&many("X", M, Severity::High, 2)).maintenance.score,
            69
        );
    }

    #[test]
    fn a_rule_costs_at_most_twice_its_base() {
        // High: 25 + 4 × 6.25 = 50 at five findings, and no more after.
        assert_eq!(grade(&many("X", S, Severity::High, 5)).security.score, 50);
        assert_eq!(
            grade(&many("X", S, Severity::High, 1000)).security.score,
            50
        );
        assert_eq!(
            grade(&many("X", M, Severity::Medium, 1000))
                .maintenance
                .score,
            76
        );
        assert_eq!(
            grade(&many("X", M, Severity::Low, 1000)).maintenance.score,
            90
        );
    }

    #[test]
    fn scores_stop_at_zero() {
        let mut all = Vec::new();
        for r in ["A", "B", "C", "D", "E"] {
            all.extend(many(r, S, Severity::High, 3));
        }
        let g = grade(&all);
        assert_eq!(g.security, Grade::from_score(0));
        assert_eq!(g.overall.grade, Letter::F);
    }

    #[test]
    fn axes_are_graded_apart_and_overall_is_the_weaker() {
        let g = grade(&[f("M1", M, Severity::Medium), f("S1", S, Severity::High)]);
        assert_eq!(g.maintenance.score, 88);
        assert_eq!(g.security.score, 75);
        assert_eq!(g.overall, Grade::from_score(75));
        let only_m = grade(&many("M1", M, Severity::High, 2));
        assert_eq!(only_m.security.score, 100);
        assert_eq!(only_m.overall, only_m.maintenance);
    }

    #[test]
    fn a_rule_of_mixed_severity_uses_its_most_severe_finding() {
        // Medium base 12, one further finding: 12 + 3 = 15, whatever the
        // second finding's own severity.
        let g = grade(&[f("X", M, Severity::Low), f("X", M, Severity::Medium)]);
        assert_eq!(g.maintenance.score, 85);
    }

    #[test]
    fn letters_order_and_parse() {
        assert!(Letter::A > Letter::B && Letter::D > Letter::F);
        assert_eq!("b".parse::<Letter>(), Ok(Letter::B));
        assert!("E".parse::<Letter>().is_err());
        assert_eq!(
            grade(&[f("X", M, Severity::High)]).one_line(),
            "Maintenance C (75), Security A (100), overall C (75)"
        );
    }

    #[test]
    fn grades_serialize_as_documented() {
        let v = serde_json::to_value(grade(&[f("X", S, Severity::Low)])).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "maintenance": {"score": 100, "grade": "A"},
                "security": {"score": 95, "grade": "A"},
                "overall": {"score": 95, "grade": "A"},
            })
        );
    }
}
