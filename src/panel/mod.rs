//! The desktop presence panel.
