//! Pages and API of the one form and acceptance.
