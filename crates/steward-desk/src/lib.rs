//! The desk's rules, with no I/O: who may do what ([`access`]), what a case is made of when a
//! post is escalated and who may own or answer it ([`case`]), the response clocks
//! ([`clock`]), and the text of escalation, reminder and missed-target notices ([`notice`]).
//! The server asks these functions and stores what they return.

pub mod access;
pub mod case;
pub mod clock;
pub mod notice;

pub use access::{AccessRole, Action, Actor};
pub use case::{CasePlan, Refusal, ResolvedPerson};
pub use clock::{Clock, ManualClock};
pub use notice::Notice;
