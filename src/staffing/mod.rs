//! Staffing (issue 16, R14): how many windows each line needs hour by hour so that a target
//! share of citizens waits no longer than a target, by Erlang C and checked by a simulation of
//! the hall's own calling order.

pub mod erlang;
pub mod plan;
pub mod simulate;
pub mod web;
