//! Co-sell opportunities on PostgreSQL.

use crate::{PostgresStore, append_events, exec, pg, query};
use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use partnerd_domain::cosell::OpportunityStatus;
use partnerd_domain::events::NewEvent;
use partnerd_store::*;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

const COLUMNS: &str =
    "o.id, o.marketplace_id, o.owner_partner_id, oc.name, o.cosell_partner_id, cc.name, o.customer_name,
                       o.deal_value_cents, o.currency, o.description, o.expected_close_date, o.status, o.notes,
                       o.created_by, o.created_at, o.updated_at, o.closed_at, o.version";

const FROM: &str = "FROM opportunities o
                    JOIN partners op ON op.id = o.owner_partner_id JOIN companies oc ON oc.id = op.company_id
                    JOIN partners cp ON cp.id = o.cosell_partner_id JOIN companies cc ON cc.id = cp.company_id";

fn from_row(r: &Row) -> OpportunityRecord {
    let status: String = r.get(11);
    OpportunityRecord {
        id: r.get(0),
        marketplace_id: r.get(1),
        owner_partner_id: r.get(2),
        owner_company_name: r.get(3),
        cosell_partner_id: r.get(4),
        cosell_company_name: r.get(5),
        customer_name: r.get(6),
        deal_value_cents: r.get(7),
        currency: r.get(8),
        description: r.get(9),
        expected_close_date: r.get(10),
        status: OpportunityStatus::parse(&status).unwrap_or(OpportunityStatus::Open),
        notes: r.get(12),
        created_by: r.get(13),
        created_at: r.get(14),
        updated_at: r.get(15),
        closed_at: r.get(16),
        version: r.get(17),
    }
}

/// The viewer's side of the filter: SQL from `$2` on (`$1` is the marketplace) and its values.
fn visible<'a>(
    viewer: &'a String,
    filter: &'a OpportunityFilter,
    status: &'a Option<&'static str>,
) -> (String, Vec<&'a (dyn ToSql + Sync)>) {
    let mut args: Vec<&(dyn ToSql + Sync)> = vec![viewer];
    let mut sql = match &filter.other_partner_id {
        Some(other) => {
            args.push(other);
            " AND ((o.owner_partner_id = $2 AND o.cosell_partner_id = $3) OR (o.cosell_partner_id = $2 AND o.owner_partner_id = $3))".to_owned()
        }
        None => " AND (o.owner_partner_id = $2 OR o.cosell_partner_id = $2)".to_owned(),
    };
    if let Some(st) = status {
        args.push(st);
        sql.push_str(&format!(" AND o.status = ${}", args.len() + 1));
    }
    if let Some(after) = &filter.created_after {
        args.push(after);
        sql.push_str(&format!(" AND o.created_at > ${}", args.len() + 1));
    }
    (sql, args)
}

async fn insert(c: &impl GenericClient, o: &OpportunityRecord) -> StoreResult<()> {
    exec(
        c,
        "INSERT INTO opportunities (id, marketplace_id, owner_partner_id, cosell_partner_id, customer_name, deal_value_cents,
                currency, description, expected_close_date, status, notes, created_by, created_at, updated_at, closed_at, version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        &[
            &o.id,
            &o.marketplace_id,
            &o.owner_partner_id,
            &o.cosell_partner_id,
            &o.customer_name,
            &o.deal_value_cents,
            &o.currency,
            &o.description,
            &o.expected_close_date,
            &o.status.as_str(),
            &o.notes,
            &o.created_by,
            &o.created_at,
            &o.updated_at,
            &o.closed_at,
            &o.version,
        ],
        "opportunity id taken",
    )
    .await?;
    Ok(())
}

#[async_trait]
impl CosellStore for PostgresStore {
    async fn create_opportunity(&self, o: OpportunityRecord, events: Vec<NewEvent>) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        insert(&tx, &o).await?;
        append_events(&tx, &o.marketplace_id, o.created_at, &events).await?;
        tx.commit().await.map_err(pg)
    }

    async fn get_opportunity(
        &self,
        marketplace_id: &str,
        viewer: &str,
        id: &str,
    ) -> StoreResult<Option<OpportunityRecord>> {
        let c = self.client().await?;
        let sql = format!(
            "SELECT {COLUMNS} {FROM} WHERE o.marketplace_id = $1 AND o.id = $2 AND (o.owner_partner_id = $3 OR o.cosell_partner_id = $3)"
        );
        Ok(query(&c, &sql, &[&marketplace_id, &id, &viewer]).await?.first().map(from_row))
    }

    async fn list_opportunities(
        &self,
        marketplace_id: &str,
        viewer: &str,
        filter: &OpportunityFilter,
        offset: u64,
        limit: u32,
    ) -> StoreResult<OpportunityPage> {
        let c = self.client().await?;
        let m = marketplace_id.to_owned();
        let viewer = viewer.to_owned();
        let status = filter.status.map(|s| s.as_str());
        let (cond, args) = visible(&viewer, filter, &status);
        let mut all: Vec<&(dyn ToSql + Sync)> = vec![&m];
        all.extend(args);
        let total: i64 =
            query(&c, &format!("SELECT COUNT(*) FROM opportunities o WHERE o.marketplace_id = $1{cond}"), &all).await?
                [0]
            .get(0);
        let (limit, offset) = (i64::from(limit), i64::try_from(offset).unwrap_or(i64::MAX));
        let n = all.len();
        all.push(&limit);
        all.push(&offset);
        let sql = format!(
            "SELECT {COLUMNS} {FROM} WHERE o.marketplace_id = $1{cond} ORDER BY o.created_at DESC, o.id DESC LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        );
        let items = query(&c, &sql, &all).await?.iter().map(from_row).collect();
        Ok(OpportunityPage { items, total: total.max(0) as u64 })
    }

    async fn update_opportunity(
        &self,
        o: OpportunityRecord,
        expected_version: i64,
        events: Vec<NewEvent>,
    ) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg)?;
        let rows = query(
            &tx,
            "SELECT version FROM opportunities WHERE marketplace_id = $1 AND id = $2 FOR UPDATE",
            &[&o.marketplace_id, &o.id],
        )
        .await?;
        match rows.first().map(|r| r.get::<_, i64>(0)) {
            None => return Err(StoreError::NotFound("opportunity")),
            Some(v) if v != expected_version => {
                return Err(StoreError::Conflict("the opportunity changed since it was read".into()));
            }
            Some(_) => {}
        }
        let changed = exec(
            &tx,
            "UPDATE opportunities SET customer_name = $5, deal_value_cents = $6, currency = $7, description = $8,
                    expected_close_date = $9, status = $10, notes = $11, updated_at = $12, closed_at = $13, version = $14
             WHERE id = $1 AND marketplace_id = $2 AND owner_partner_id = $3 AND cosell_partner_id = $4",
            &[
                &o.id,
                &o.marketplace_id,
                &o.owner_partner_id,
                &o.cosell_partner_id,
                &o.customer_name,
                &o.deal_value_cents,
                &o.currency,
                &o.description,
                &o.expected_close_date,
                &o.status.as_str(),
                &o.notes,
                &o.updated_at,
                &o.closed_at,
                &o.version,
            ],
            "",
        )
        .await?;
        if changed != 1 {
            return Err(StoreError::Conflict("the opportunity's parties cannot change".into()));
        }
        append_events(&tx, &o.marketplace_id, o.updated_at, &events).await?;
        tx.commit().await.map_err(pg)
    }
}
