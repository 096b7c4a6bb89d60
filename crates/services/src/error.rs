use partnerd_domain::ValidationErrors;
use partnerd_store::StoreError;

/// What a use case can answer besides success. Surfaces map these to their documented shapes.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{0}")]
    Validation(ValidationErrors),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    /// The store failed; details are logged, not shown.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
}

impl From<ValidationErrors> for ServiceError {
    fn from(e: ValidationErrors) -> Self {
        ServiceError::Validation(e)
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => ServiceError::NotFound(what),
            StoreError::Conflict(msg) => ServiceError::Conflict(msg),
            StoreError::Backend(msg) => ServiceError::Unavailable(msg),
        }
    }
}
