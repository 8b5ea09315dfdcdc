//! onetrip: an exit-entry administration service hall, so that a citizen gets a passport or
//! travel permit in one trip (只跑一次), or none.

pub mod applications;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod booking;
pub mod calendar;
pub mod callbacks;
pub mod catalog;
pub mod clock;
pub mod complaints;
pub mod config;
pub mod crypto;
pub mod db;
pub mod demo;
pub mod device_registry;
pub mod devices;
pub mod documents;
pub mod domain;
pub mod error;
pub mod error_rate;
pub mod express;
pub mod hall;
pub mod hall_day;
pub mod i18n;
pub mod key_file;
pub mod notify;
pub mod payments;
pub mod portal;
pub mod privacy;
pub mod queue;
pub mod ratings;
pub mod rekey;
pub mod reports;
pub mod retention;
pub mod self_service;
pub mod server;
pub mod sites;
pub mod staffing;
pub mod supervision;
pub mod telemetry;
pub mod web;

/// mimalloc for every program built on this library (the server, the tests, the benchmarks):
/// under a release morning's load glibc's allocator took a fifth of the CPU, much of it
/// waiting on its arena locks between the request threads (docs/BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
