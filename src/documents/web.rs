//! Pages and API of approval, production, custody, pickup and progress.
