//! `GET /api/users/demographics` (the member's own record, derived now),
//! `PUT /api/users/demographics/consent` (consent to demographic use,
//! audited) and `GET /api/users/demographics/summary` (`auditor`,
//! `election_admin`: counts over consenting members, cells under k
//! suppressed).

use serde::{Deserialize, Serialize};
use spin_sdk::http::Request;
use vottery_component_kit::contracts::devices::PlaceOf;
use vottery_component_kit::{self as kit};
use vottery_policy::Permission;
use vottery_users_core::demographics::{self, AgeBand, Summary};
use vottery_users_core::{UserId, UsersError};

use crate::profile::{json_object, member, profile_with_key};
use crate::store;

/// A member's demographic record, derived and coarse.
#[derive(Serialize)]
pub struct Record {
    pub age_band: Option<&'static str>,
    pub gender: Option<String>,
    pub country: Option<String>,
    pub region: Option<String>,
    pub language: Option<String>,
}

#[derive(Serialize)]
struct Demographics {
    #[serde(flatten)]
    record: Record,
    consent: Consent,
}

#[derive(Serialize)]
struct Consent {
    demographic_use: bool,
    consented_at: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsentBody {
    demographic_use: bool,
}

/// `GET /api/users/demographics`: derived now; a consenting member's kept
/// record is refreshed with it.
pub async fn get(request: Request) -> Result<kit::Response, UsersError> {
    let user = member(&request)?;
    let record = derive(&user).await?;
    let consented_at = store::refresh_demographics(&store::open().await?, user.as_str(), &record).await?;
    Ok(answer(record, consented_at))
}

/// `PUT /api/users/demographics/consent`: `{demographic_use: true}` keeps
/// the record for the summary, `false` deletes it; either writes an audit
/// row in the same statement.
pub async fn consent(request: Request) -> Result<kit::Response, UsersError> {
    let user = member(&request)?;
    let body: ConsentBody = json_object(request, 1024).await?;
    let record = derive(&user).await?;
    let db = store::open().await?;
    let consented_at = if body.demographic_use {
        Some(store::consent_demographics(&db, user.as_str(), &record).await?)
    } else {
        store::withdraw_demographics(&db, user.as_str()).await?;
        None
    };
    Ok(answer(record, consented_at))
}

/// `GET /api/users/demographics/summary` (`demographics:read_summary`).
pub async fn summary(request: Request) -> Result<kit::Response, UsersError> {
    let (db, _) = crate::roles::caller_with(&request, Permission::DemographicsReadSummary).await?;
    let k = demographics::parse_k(&kit::variable("demographics_k").await.unwrap_or_default())
        .map_err(UsersError::Misconfigured)?;
    let cells = store::demographic_cells(&db).await?;
    let summary: Summary = demographics::suppress(cells, k).ok_or(UsersError::SummarySuppressed(k))?;
    Ok(kit::json(200, &summary))
}

fn answer(record: Record, consented_at: Option<String>) -> kit::Response {
    let consent = Consent { demographic_use: consented_at.is_some(), consented_at };
    kit::json(200, &Demographics { record, consent })
}

/// The record as it stands: Sngine's birth date (to a band) and gender,
/// the member's language, the place of their latest located device.
async fn derive(user: &UserId) -> Result<Record, UsersError> {
    let (row, own) = profile_with_key(user).await?;
    let place = kit::call("users", &PlaceOf { user_id: user.as_str().to_owned() })
        .await
        .map_err(|e| UsersError::Dependency(format!("devices {e}")))?;
    let today = demographics::utc_date(kit::now()).ok_or_else(|| UsersError::Internal("the clock".into()))?;
    Ok(Record {
        age_band: AgeBand::of(row.birth_date.as_deref(), &today).map(AgeBand::as_str),
        gender: demographics::gender(row.gender.as_deref()),
        // What the geolocation API said, kept only within the columns' sizes.
        country: place.country.filter(|c| c.chars().count() <= 8),
        region: place.region.filter(|r| r.chars().count() <= 128),
        language: own.language.map(|l| l.as_str().to_owned()),
    })
}
