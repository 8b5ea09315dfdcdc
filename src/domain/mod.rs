//! Pure domain rules, no I/O: identity and document numbers, money, application numbers, the
//! working-day calendar, site opening hours, masking.

pub mod application_no;
pub mod calendar;
pub mod document_number;
pub mod id_number;
pub mod masking;
pub mod money;
pub mod opening;
pub mod phone;
