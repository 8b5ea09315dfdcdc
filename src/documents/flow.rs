//! The life of one document after acceptance (R7, R9, R10), as a closed state machine: every
//! transition the system can make is listed here, and nothing else is allowed.
//!
//! accepted → under review → approved | rejected → in production → produced → in custody (at a
//! site) | shipped → issued | delivered. A document found wrong at pickup goes back to
//! production; a shipment the courier could not deliver comes back into custody; a document
//! left uncollected past the retention period is returned to production or voided by rule.

use serde::{Deserialize, Serialize};

use crate::i18n::Lang;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// On a form not accepted yet (submitted, being accepted, awaiting materials, or refused):
    /// acceptance, not this workflow, moves it on.
    Applied,
    Accepted,
    UnderReview,
    Approved,
    Rejected,
    InProduction,
    Produced,
    InCustody,
    Shipped,
    Issued,
    Delivered,
    /// Sent back to the production centre after the retention period (rule `return`).
    Returned,
    /// Declared void after the retention period (rule `void`).
    Voided,
}

impl Stage {
    pub const ALL: [Stage; 13] = [
        Stage::Applied,
        Stage::Accepted,
        Stage::UnderReview,
        Stage::Approved,
        Stage::Rejected,
        Stage::InProduction,
        Stage::Produced,
        Stage::InCustody,
        Stage::Shipped,
        Stage::Issued,
        Stage::Delivered,
        Stage::Returned,
        Stage::Voided,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Stage::Applied => "applied",
            Stage::Accepted => "accepted",
            Stage::UnderReview => "under_review",
            Stage::Approved => "approved",
            Stage::Rejected => "rejected",
            Stage::InProduction => "in_production",
            Stage::Produced => "produced",
            Stage::InCustody => "in_custody",
            Stage::Shipped => "shipped",
            Stage::Issued => "issued",
            Stage::Delivered => "delivered",
            Stage::Returned => "returned",
            Stage::Voided => "voided",
        }
    }

    pub fn parse(s: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|x| x.code() == s)
    }

    /// The plain-language name citizens read on the progress page.
    pub fn name(self, lang: Lang) -> &'static str {
        match self {
            Stage::Applied => lang.pick("待受理", "Not accepted yet"),
            Stage::Accepted => lang.pick("已受理", "Accepted"),
            Stage::UnderReview => lang.pick("审批中", "Under review"),
            Stage::Approved => lang.pick("审批通过", "Approved"),
            Stage::Rejected => lang.pick("不予批准", "Not approved"),
            Stage::InProduction => lang.pick("制证中", "Being produced"),
            Stage::Produced => lang.pick("制证完成", "Produced"),
            Stage::InCustody => lang.pick("可领取", "Ready to collect"),
            Stage::Shipped => lang.pick("已寄出", "Shipped"),
            Stage::Issued => lang.pick("已领取", "Collected"),
            Stage::Delivered => lang.pick("已签收", "Delivered"),
            Stage::Returned => lang.pick("逾期未领，已退回制证中心", "Uncollected; returned"),
            Stage::Voided => lang.pick("逾期未领，已作废", "Uncollected; voided"),
        }
    }

    /// No further step.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Stage::Rejected | Stage::Issued | Stage::Delivered | Stage::Voided | Stage::Returned
        )
    }

    /// Entering this stage needs the application's fee paid (decision 012): production uses
    /// the blank, issue and shipping hand the document over.
    pub fn needs_payment(self) -> bool {
        matches!(self, Stage::InProduction | Stage::Issued | Stage::Shipped)
    }

    /// Still owed to the citizen by the promised date (watched for overdue).
    pub fn is_pending(self) -> bool {
        matches!(
            self,
            Stage::Accepted
                | Stage::UnderReview
                | Stage::Approved
                | Stage::InProduction
                | Stage::Produced
        )
    }
}

/// Whether `from → to` is a step the workflow allows.
pub fn allowed(from: Stage, to: Stage) -> bool {
    use Stage::*;
    matches!(
        (from, to),
        (Accepted, UnderReview)
            | (UnderReview, Approved | Rejected)
            | (Approved, InProduction)
            | (InProduction, Produced)
            | (Produced, InCustody | Shipped)
            // A data error found at pickup: made again.
            | (InCustody, InProduction | Issued | Shipped | Returned | Voided)
            // The courier could not deliver and brought it back.
            | (Shipped, Delivered | InCustody)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_happy_paths_are_allowed() {
        let pickup = [
            Stage::Accepted,
            Stage::UnderReview,
            Stage::Approved,
            Stage::InProduction,
            Stage::Produced,
            Stage::InCustody,
            Stage::Issued,
        ];
        for w in pickup.windows(2) {
            assert!(allowed(w[0], w[1]), "{:?} → {:?}", w[0], w[1]);
        }
        assert!(allowed(Stage::Produced, Stage::Shipped));
        assert!(allowed(Stage::Shipped, Stage::Delivered));
    }

    #[test]
    fn every_other_transition_is_refused() {
        let mut allowed_count = 0;
        for from in Stage::ALL {
            for to in Stage::ALL {
                if allowed(from, to) {
                    allowed_count += 1;
                    assert!(!from.is_final(), "{from:?} is final but may go to {to:?}");
                    assert_ne!(from, to);
                }
            }
        }
        // Exactly the 14 listed steps.
        assert_eq!(allowed_count, 14);
        // Some that must never happen.
        for (from, to) in [
            (Stage::Accepted, Stage::Approved),
            (Stage::Accepted, Stage::Issued),
            (Stage::Rejected, Stage::InProduction),
            (Stage::Approved, Stage::InCustody),
            (Stage::Produced, Stage::Issued),
            (Stage::Issued, Stage::InCustody),
            (Stage::Delivered, Stage::Shipped),
            (Stage::Voided, Stage::Issued),
        ] {
            assert!(!allowed(from, to), "{from:?} → {to:?} must be refused");
        }
    }

    #[test]
    fn codes_round_trip() {
        for s in Stage::ALL {
            assert_eq!(Stage::parse(s.code()), Some(s));
        }
    }
}
