//! Scores and letter grades from findings.
//!
//! Two axes, Maintenance and Security, each get a score from 0 to 100 and a
//! letter, when they are graded; the overall grade is the weakest of the
//! graded axes.
//!
//! # Which axes are graded
//!
//! An axis is graded when at least one rule that ran belongs to it and at
//! least one file was scanned. Otherwise it is **not graded**: no score and
//! no letter (`null` in JSON and SARIF, `–` in the terminal, `n/a` in one
//! line), never an A it did not earn. When no axis is graded, neither is the
//! overall grade.
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
//! **Overall score** = the lowest score among the graded axes (the weakest
//! link).
//!
//! **Bands**, for every score: **A ≥ 90, B ≥ 80, C ≥ 70, D ≥ 60, else F.**
//!
//! The terminal summary, the JSON summary, the SARIF run properties and the
//! GitHub annotations all show these numbers; suppressed and baselined
//! findings are not counted (they are not in the report), and neither are
//! unused-suppression reports (MCP001), which are about the audit's config,
//! not the server.

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

impl fmt::Display for Grade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.grade, self.score)
    }
}

/// The grades of a report; `None` for an axis that is not graded (see the
/// module docs). Serialized as
/// `{"maintenance": {"score": 76, "grade": "C"}, "security": {"score": null, "grade": null}, "overall": {..}}`:
/// an axis that is not graded keeps its keys, with `null` values, so readers
/// of `.security.grade` get `null` rather than an error.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Grades {
    #[serde(serialize_with = "maybe_grade")]
    pub maintenance: Option<Grade>,
    #[serde(serialize_with = "maybe_grade")]
    pub security: Option<Grade>,
    #[serde(serialize_with = "maybe_grade")]
    pub overall: Option<Grade>,
}

fn maybe_grade<S: serde::Serializer>(g: &Option<Grade>, s: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct NotGraded {
        score: Option<u32>,
        grade: Option<Letter>,
    }
    match g {
        Some(g) => g.serialize(s),
        None => NotGraded {
            score: None,
            grade: None,
        }
        .serialize(s),
    }
}

/// `C (76)`, or `n/a` for an axis that is not graded.
pub fn shown(g: Option<Grade>) -> String {
    g.map_or_else(|| "n/a".to_string(), |g| g.to_string())
}

impl Grades {
    /// `Maintenance C (76), Security n/a, overall C (76)`.
    pub fn one_line(&self) -> String {
        format!(
            "Maintenance {}, Security {}, overall {}",
            shown(self.maintenance),
            shown(self.security),
            shown(self.overall)
        )
    }

    /// The grade of `axis`.
    pub fn axis(&self, axis: Axis) -> Option<Grade> {
        match axis {
            Axis::Maintenance => self.maintenance,
            Axis::Security => self.security,
        }
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

/// The grades of a set of findings, with both axes graded (see the module
/// docs for the formula).
pub fn grade(findings: &[Finding]) -> Grades {
    grade_axes(findings, &[Axis::Maintenance, Axis::Security])
}

/// The grades of a set of findings, grading only the axes in `graded`: the
/// axes of the rules that ran, or none when no file was scanned.
pub fn grade_axes(findings: &[Finding], graded: &[Axis]) -> Grades {
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
        if !graded.contains(&a) {
            return None;
        }
        let quarters: u32 = rules
            .iter()
            .filter(|((ax, _), _)| *ax == a)
            .map(|(_, (sev, n))| rule_penalty_quarters(*sev, *n))
            .fold(0, u32::saturating_add);
        Some(Grade::from_score(score_from_quarters(quarters)))
    };
    let maintenance = axis(Axis::Maintenance);
    let security = axis(Axis::Security);
    let overall = [maintenance, security]
        .into_iter()
        .flatten()
        .map(|g| g.score)
        .min()
        .map(Grade::from_score);
    Grades {
        maintenance,
        security,
        overall,
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
            assert_eq!(x, Some(Grade::from_score(100)));
            assert_eq!(x.unwrap().grade, Letter::A);
        }
    }

    #[test]
    fn an_axis_no_rule_covers_is_not_graded_and_overall_skips_it() {
        let g = grade_axes(&[f("X", M, Severity::High)], &[M]);
        assert_eq!(g.security, None);
        assert_eq!(g.maintenance, Some(Grade::from_score(75)));
        assert_eq!(g.overall, g.maintenance);
        assert_eq!(
            g.one_line(),
            "Maintenance C (75), Security n/a, overall C (75)"
        );
        // Nothing graded (no file scanned): no overall grade either.
        let none = grade_axes(&[], &[]);
        assert_eq!(none, Grades::default());
        assert_eq!(none.overall, None);
        assert_eq!(
            serde_json::to_value(none).unwrap()["security"],
            serde_json::json!({"score": null, "grade": null})
        );
    }

    #[test]
    fn one_finding_costs_its_base() {
        assert_eq!(
            grade(&[f("X", M, Severity::High)])
                .maintenance
                .unwrap()
                .score,
            75
        );
        assert_eq!(
            grade(&[f("X", M, Severity::Medium)])
                .maintenance
                .unwrap()
                .score,
            88
        );
        assert_eq!(
            grade(&[f("X", M, Severity::Low)])
                .maintenance
                .unwrap()
                .score,
            95
        );
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
        assert_eq!(grade(&two).maintenance, Some(Grade::from_score(90)));
        assert_eq!(grade(&two).maintenance.unwrap().grade, Letter::A);
        let three = [
            f("X", M, Severity::Low),
            f("Y", M, Severity::Low),
            f("Z", M, Severity::Low),
        ];
        assert_eq!(grade(&three).maintenance.unwrap().grade, Letter::B);
        // High + low = 70: the bottom of C.
        let c = [f("X", M, Severity::High), f("Y", M, Severity::Low)];
        assert_eq!(grade(&c).maintenance, Some(Grade::from_score(70)));
        assert_eq!(grade(&c).maintenance.unwrap().grade, Letter::C);
    }

    #[test]
    fn repeats_weigh_less_than_distinct_rules() {
        // One medium rule five times: 12 + 4 × 3 = 24.
        assert_eq!(
            grade(&many("X", M, Severity::Medium, 5))
                .maintenance
                .unwrap()
                .score,
            76
        );
        // Five distinct medium rules: 60.
        let distinct: Vec<_> = ["A", "B", "C", "D", "E"]
            .into_iter()
            .map(|r| f(r, M, Severity::Medium))
            .collect();
        assert_eq!(grade(&distinct).maintenance.unwrap().score, 40);
    }

    #[test]
    fn quarters_round_half_up() {
        // Low: 5 + 1.25 = 6.25 → 93.75 → 94; 5 + 2.5 = 7.5 → 92.5 → 93.
        assert_eq!(
            grade(&many("X", M, Severity::Low, 2))
                .maintenance
                .unwrap()
                .score,
            94
        );
        assert_eq!(
            grade(&many("X", M, Severity::Low, 3))
                .maintenance
                .unwrap()
                .score,
            93
        );
        // High: 25 + 6.25 = 31.25 → 68.75 → 69.
        assert_eq!(
            grade(&many("X", M, Severity::High, 2))
                .maintenance
                .unwrap()
                .score,
            69
        );
    }

    #[test]
    fn a_rule_costs_at_most_twice_its_base() {
        // High: 25 + 4 × 6.25 = 50 at five findings, and no more after.
        assert_eq!(
            grade(&many("X", S, Severity::High, 5))
                .security
                .unwrap()
                .score,
            50
        );
        assert_eq!(
            grade(&many("X", S, Severity::High, 1000))
                .security
                .unwrap()
                .score,
            50
        );
        assert_eq!(
            grade(&many("X", M, Severity::Medium, 1000))
                .maintenance
                .unwrap()
                .score,
            76
        );
        assert_eq!(
            grade(&many("X", M, Severity::Low, 1000))
                .maintenance
                .unwrap()
                .score,
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
        assert_eq!(g.security, Some(Grade::from_score(0)));
        assert_eq!(g.overall.unwrap().grade, Letter::F);
    }

    #[test]
    fn axes_are_graded_apart_and_overall_is_the_weaker() {
        let g = grade(&[f("M1", M, Severity::Medium), f("S1", S, Severity::High)]);
        assert_eq!(g.maintenance.unwrap().score, 88);
        assert_eq!(g.security.unwrap().score, 75);
        assert_eq!(g.overall, Some(Grade::from_score(75)));
        let only_m = grade(&many("M1", M, Severity::High, 2));
        assert_eq!(only_m.security.unwrap().score, 100);
        assert_eq!(only_m.overall, only_m.maintenance);
    }

    #[test]
    fn a_rule_of_mixed_severity_uses_its_most_severe_finding() {
        // Medium base 12, one further finding: 12 + 3 = 15, whatever the
        // second finding's own severity.
        let g = grade(&[f("X", M, Severity::Low), f("X", M, Severity::Medium)]);
        assert_eq!(g.maintenance.unwrap().score, 85);
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
