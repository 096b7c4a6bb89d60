-- Sandboxes: a marketplace of their own (`id` is that marketplace's id, `sbx_…`) owned by a
-- partner of a production marketplace (`marketplace_id`, `owner_partner_id`). Removing one
-- deletes every row of its marketplace (`partnerd_store::schema::sandbox::PURGE`).
-- `status` is `provisioning` while the demo data is written, `active` after; a key of the
-- sandbox authenticates only while it is `active` and before `expires_at`.
-- Times are TIMESTAMPTZ.

CREATE TABLE sandboxes (
    id                  TEXT PRIMARY KEY REFERENCES marketplaces (id),
    marketplace_id      TEXT NOT NULL REFERENCES marketplaces (id),
    owner_partner_id    TEXT NOT NULL REFERENCES partners (id),
    name                TEXT NOT NULL,
    status              TEXT NOT NULL CHECK (status IN ('provisioning', 'active')),
    sandbox_partner_id  TEXT,
    created_at          TIMESTAMPTZ NOT NULL,
    expires_at          TIMESTAMPTZ NOT NULL
);
-- The owner's list, newest first.
CREATE INDEX sandboxes_owner ON sandboxes (marketplace_id, owner_partner_id, created_at, id);
-- The expiry sweep.
CREATE INDEX sandboxes_expiry ON sandboxes (expires_at);
