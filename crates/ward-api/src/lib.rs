//! The JSON bodies of ward's HTTP API, shared by `ward-server` (which renders
//! them and documents them in `/openapi.json`) and `ward-client` (which
//! parses them). Field names are snake_case and stable: scripts rely on them.
//! Times are RFC 3339 UTC.

mod agents;
mod audit;
pub mod bounds;
mod events;
mod kinds;
mod leaks;
mod oauth;
mod password;
pub mod schema;
mod session;
mod tokens;
mod users;

pub use agents::*;
pub use audit::*;
pub use events::*;
pub use kinds::*;
pub use leaks::*;
pub use oauth::*;
pub use password::*;
pub use session::*;
pub use tokens::*;
pub use users::*;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Every error response: `{"error":{"code","message"}}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable, machine-readable code such as `not_found` or `insufficient_scope`.
    pub code: String,
    /// What went wrong and what to do next.
    pub message: String,
}

/// `GET /healthz`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Health {
    pub status: String,
}
