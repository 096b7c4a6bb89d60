//! Co-sell opportunities on SQLite.

use crate::conn::backend;
use crate::{SqliteStore, append_events, at, ms, opt_at, write_error};
use async_trait::async_trait;
use chrono::NaiveDate;
use partnerd_domain::cosell::OpportunityStatus;
use partnerd_domain::events::NewEvent;
use partnerd_store::*;
use rusqlite::types::Value as Sql;
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};

const COLUMNS: &str =
    "o.id, o.marketplace_id, o.owner_partner_id, oc.name, o.cosell_partner_id, cc.name, o.customer_name,
                       o.deal_value_cents, o.currency, o.description, o.expected_close_date, o.status, o.notes,
                       o.created_by, o.created_at, o.updated_at, o.closed_at, o.version";

const FROM: &str = "FROM opportunities o
                    JOIN partners op ON op.id = o.owner_partner_id JOIN companies oc ON oc.id = op.company_id
                    JOIN partners cp ON cp.id = o.cosell_partner_id JOIN companies cc ON cc.id = cp.company_id";

fn from_row(r: &Row<'_>) -> rusqlite::Result<OpportunityRecord> {
    let date: Option<String> = r.get(10)?;
    let status: String = r.get(11)?;
    Ok(OpportunityRecord {
        id: r.get(0)?,
        marketplace_id: r.get(1)?,
        owner_partner_id: r.get(2)?,
        owner_company_name: r.get(3)?,
        cosell_partner_id: r.get(4)?,
        cosell_company_name: r.get(5)?,
        customer_name: r.get(6)?,
        deal_value_cents: r.get(7)?,
        currency: r.get(8)?,
        description: r.get(9)?,
        expected_close_date: date.and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok()),
        status: OpportunityStatus::parse(&status).unwrap_or(OpportunityStatus::Open),
        notes: r.get(12)?,
        created_by: r.get(13)?,
        created_at: at(r.get(14)?),
        updated_at: at(r.get(15)?),
        closed_at: opt_at(r.get(16)?),
        version: r.get(17)?,
    })
}

fn date_text(d: Option<NaiveDate>) -> Option<String> {
    d.map(|d| d.format("%Y-%m-%d").to_string())
}

/// The viewer's side of the filter as SQL and its arguments (from `?2` on; `?1` is the
/// marketplace).
fn visible(viewer: &str, filter: &OpportunityFilter) -> (String, Vec<Sql>) {
    let mut sql = String::new();
    let mut args: Vec<Sql> = Vec::new();
    let arg = |v: Sql, args: &mut Vec<Sql>| {
        args.push(v);
        format!("?{}", args.len() + 1)
    };
    match &filter.other_partner_id {
        Some(other) => {
            let (v1, o1, v2, o2) = (
                arg(viewer.to_owned().into(), &mut args),
                arg(other.clone().into(), &mut args),
                arg(viewer.to_owned().into(), &mut args),
                arg(other.clone().into(), &mut args),
            );
            sql.push_str(&format!(
                " AND ((o.owner_partner_id = {v1} AND o.cosell_partner_id = {o1}) OR (o.cosell_partner_id = {v2} AND o.owner_partner_id = {o2}))"
            ));
        }
        None => {
            let (v1, v2) = (arg(viewer.to_owned().into(), &mut args), arg(viewer.to_owned().into(), &mut args));
            sql.push_str(&format!(" AND (o.owner_partner_id = {v1} OR o.cosell_partner_id = {v2})"));
        }
    }
    if let Some(st) = filter.status {
        let p = arg(st.as_str().to_owned().into(), &mut args);
        sql.push_str(&format!(" AND o.status = {p}"));
    }
    if let Some(after) = filter.created_after {
        let p = arg(ms(after).into(), &mut args);
        sql.push_str(&format!(" AND o.created_at > {p}"));
    }
    (sql, args)
}

fn write(c: &Connection, o: &OpportunityRecord, insert: bool) -> StoreResult<usize> {
    let args = params![
        o.id,
        o.marketplace_id,
        o.owner_partner_id,
        o.cosell_partner_id,
        o.customer_name,
        o.deal_value_cents,
        o.currency,
        o.description,
        date_text(o.expected_close_date),
        o.status.as_str(),
        o.notes,
        o.created_by,
        ms(o.created_at),
        ms(o.updated_at),
        o.closed_at.map(ms),
        o.version,
    ];
    let sql = if insert {
        "INSERT INTO opportunities (id, marketplace_id, owner_partner_id, cosell_partner_id, customer_name, deal_value_cents,
                currency, description, expected_close_date, status, notes, created_by, created_at, updated_at, closed_at, version)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"
    } else {
        "UPDATE opportunities SET customer_name = ?5, deal_value_cents = ?6, currency = ?7, description = ?8,
                expected_close_date = ?9, status = ?10, notes = ?11, updated_at = ?14, closed_at = ?15, version = ?16
         WHERE id = ?1 AND marketplace_id = ?2 AND owner_partner_id = ?3 AND cosell_partner_id = ?4
           AND created_by = ?12 AND created_at = ?13"
    };
    c.prepare_cached(sql).and_then(|mut s| s.execute(args)).map_err(|e| write_error(e, "opportunity id taken"))
}

#[async_trait]
impl CosellStore for SqliteStore {
    async fn create_opportunity(&self, o: OpportunityRecord, events: Vec<NewEvent>) -> StoreResult<()> {
        self.writer
            .write(move |c| {
                write(c, &o, true)?;
                append_events(c, &o.marketplace_id, o.created_at, &events)
            })
            .await
    }

    async fn get_opportunity(
        &self,
        marketplace_id: &str,
        viewer: &str,
        id: &str,
    ) -> StoreResult<Option<OpportunityRecord>> {
        let (m, v, id) = (marketplace_id.to_owned(), viewer.to_owned(), id.to_owned());
        self.readers
            .read(move |c| {
                c.prepare_cached(&format!(
                    "SELECT {COLUMNS} {FROM} WHERE o.marketplace_id = ?1 AND o.id = ?2
                       AND (o.owner_partner_id = ?3 OR o.cosell_partner_id = ?3)"
                ))
                .and_then(|mut s| s.query_row(params![m, id, v], from_row).optional())
                .map_err(backend)
            })
            .await
    }

    async fn list_opportunities(
        &self,
        marketplace_id: &str,
        viewer: &str,
        filter: &OpportunityFilter,
        offset: u64,
        limit: u32,
    ) -> StoreResult<OpportunityPage> {
        let m = marketplace_id.to_owned();
        let (cond, args) = visible(viewer, filter);
        self.readers
            .read(move |c| {
                let mut all: Vec<Sql> = vec![m.into()];
                all.extend(args);
                let total: i64 = c
                    .prepare_cached(&format!("SELECT COUNT(*) FROM opportunities o WHERE o.marketplace_id = ?1{cond}"))
                    .and_then(|mut s| s.query_row(params_from_iter(all.iter()), |r| r.get(0)))
                    .map_err(backend)?;
                let n = all.len();
                all.push(i64::from(limit).into());
                all.push(i64::try_from(offset).unwrap_or(i64::MAX).into());
                let items = c
                    .prepare_cached(&format!(
                        "SELECT {COLUMNS} {FROM} WHERE o.marketplace_id = ?1{cond}
                         ORDER BY o.created_at DESC, o.id DESC LIMIT ?{} OFFSET ?{}",
                        n + 1,
                        n + 2
                    ))
                    .and_then(|mut s| {
                        s.query_map(params_from_iter(all.iter()), from_row)?.collect::<rusqlite::Result<Vec<_>>>()
                    })
                    .map_err(backend)?;
                Ok(OpportunityPage { items, total: total.max(0) as u64 })
            })
            .await
    }

    async fn update_opportunity(
        &self,
        o: OpportunityRecord,
        expected_version: i64,
        events: Vec<NewEvent>,
    ) -> StoreResult<()> {
        self.writer
            .write(move |c| {
                let version: Option<i64> = c
                    .prepare_cached("SELECT version FROM opportunities WHERE marketplace_id = ?1 AND id = ?2")
                    .and_then(|mut s| s.query_row(params![o.marketplace_id, o.id], |r| r.get(0)).optional())
                    .map_err(backend)?;
                match version {
                    None => return Err(StoreError::NotFound("opportunity")),
                    Some(v) if v != expected_version => {
                        return Err(StoreError::Conflict("the opportunity changed since it was read".into()));
                    }
                    Some(_) => {}
                }
                if write(c, &o, false)? != 1 {
                    return Err(StoreError::Conflict("the opportunity's parties cannot change".into()));
                }
                append_events(c, &o.marketplace_id, o.updated_at, &events)
            })
            .await
    }
}
