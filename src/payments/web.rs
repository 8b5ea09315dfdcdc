//! Pages and API of payment.
