//! The public face of the hall: the home page and public calendar look-ups.

pub mod web;
