-- An order's invoice is checked at COMMIT: the store takes an invoice's gapless number (a row
-- lock held until commit that queues the marketplace's issuers) as its transaction's last write,
-- after the order that names the invoice.
ALTER TABLE orders ALTER CONSTRAINT orders_invoice_id_fkey DEFERRABLE INITIALLY DEFERRED;
