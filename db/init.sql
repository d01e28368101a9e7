-- Generated from the Alembic migrations by `make init-sql`; do not edit by hand.
-- Docker Compose mounts it into the PostgreSQL container, which runs it on first start.
BEGIN;

CREATE TABLE alembic_version (
    version_num VARCHAR(32) NOT NULL, 
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);

-- Running upgrade  -> 0001

CREATE TABLE users (
    id SERIAL NOT NULL, 
    username VARCHAR(150) NOT NULL, 
    password_hash VARCHAR(255) NOT NULL, 
    created_at TIMESTAMP WITHOUT TIME ZONE DEFAULT now() NOT NULL, 
    CONSTRAINT pk_users PRIMARY KEY (id), 
    CONSTRAINT uq_users_username UNIQUE (username)
);

CREATE TABLE transactions (
    id BIGSERIAL NOT NULL, 
    user_id INTEGER NOT NULL, 
    amount NUMERIC(12, 2) NOT NULL, 
    category VARCHAR(100) NOT NULL, 
    timestamp TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    description TEXT, 
    dedup_key VARCHAR(64) NOT NULL, 
    CONSTRAINT pk_transactions PRIMARY KEY (id), 
    CONSTRAINT fk_transactions_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE, 
    CONSTRAINT uq_transactions_user_id_dedup_key UNIQUE (user_id, dedup_key)
);

CREATE INDEX ix_transactions_user_id_timestamp ON transactions (user_id, timestamp) INCLUDE (amount, category);

CREATE INDEX ix_transactions_user_id_amount ON transactions (user_id, amount);

CREATE TABLE daily_category_spend (
    user_id INTEGER NOT NULL, 
    day DATE NOT NULL, 
    category VARCHAR(100) NOT NULL, 
    total NUMERIC(14, 2) NOT NULL, 
    transaction_count INTEGER NOT NULL, 
    CONSTRAINT pk_daily_category_spend PRIMARY KEY (user_id, day, category), 
    CONSTRAINT fk_daily_category_spend_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE
);

CREATE TABLE login_failures (
    id BIGSERIAL NOT NULL, 
    username_key VARCHAR(150) NOT NULL, 
    failed_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    CONSTRAINT pk_login_failures PRIMARY KEY (id)
);

CREATE INDEX ix_login_failures_username_key_failed_at ON login_failures (username_key, failed_at);

CREATE FUNCTION maintain_daily_category_spend() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE daily_category_spend AS d
        SET total = d.total - o.total,
            transaction_count = d.transaction_count - o.n
        FROM (
            SELECT user_id, CAST("timestamp" AS date) AS day, category,
                   sum(amount) AS total, count(*) AS n
            FROM old_rows GROUP BY 1, 2, 3
        ) AS o
        WHERE d.user_id = o.user_id AND d.day = o.day AND d.category = o.category;
        DELETE FROM daily_category_spend AS d
        WHERE d.transaction_count = 0
          AND (d.user_id, d.day, d.category) IN (
              SELECT user_id, CAST("timestamp" AS date), category FROM old_rows
          );
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO daily_category_spend AS d
            (user_id, day, category, total, transaction_count)
        SELECT user_id, CAST("timestamp" AS date), category, sum(amount), count(*)
        FROM new_rows GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (user_id, day, category) DO UPDATE
        SET total = d.total + EXCLUDED.total,
            transaction_count = d.transaction_count + EXCLUDED.transaction_count;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER transactions_rollup_insert AFTER INSERT ON transactions
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION maintain_daily_category_spend();

CREATE TRIGGER transactions_rollup_update AFTER UPDATE ON transactions
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION maintain_daily_category_spend();

CREATE TRIGGER transactions_rollup_delete AFTER DELETE ON transactions
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION maintain_daily_category_spend();

INSERT INTO alembic_version (version_num) VALUES ('0001') RETURNING alembic_version.version_num;

-- Running upgrade 0001 -> 0002

ALTER TABLE users ADD COLUMN data_version BIGINT DEFAULT '0' NOT NULL;

CREATE OR REPLACE FUNCTION maintain_daily_category_spend() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE daily_category_spend AS d
        SET total = d.total - o.total,
            transaction_count = d.transaction_count - o.n
        FROM (
            SELECT user_id, CAST("timestamp" AS date) AS day, category,
                   sum(amount) AS total, count(*) AS n
            FROM old_rows GROUP BY 1, 2, 3
        ) AS o
        WHERE d.user_id = o.user_id AND d.day = o.day AND d.category = o.category;
        DELETE FROM daily_category_spend AS d
        WHERE d.transaction_count = 0
          AND (d.user_id, d.day, d.category) IN (
              SELECT user_id, CAST("timestamp" AS date), category FROM old_rows
          );
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO daily_category_spend AS d
            (user_id, day, category, total, transaction_count)
        SELECT user_id, CAST("timestamp" AS date), category, sum(amount), count(*)
        FROM new_rows GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (user_id, day, category) DO UPDATE
        SET total = d.total + EXCLUDED.total,
            transaction_count = d.transaction_count + EXCLUDED.transaction_count;
        UPDATE users AS u SET data_version = u.data_version + 1
        FROM (SELECT DISTINCT user_id FROM new_rows) AS changed
        WHERE u.id = changed.user_id;
    ELSE
        UPDATE users AS u SET data_version = u.data_version + 1
        FROM (SELECT DISTINCT user_id FROM old_rows) AS changed
        WHERE u.id = changed.user_id;
    END IF;
    RETURN NULL;
END
$$;

UPDATE alembic_version SET version_num='0002' WHERE alembic_version.version_num = '0001';

-- Running upgrade 0002 -> 0003

ALTER TABLE users ADD COLUMN token_version INTEGER DEFAULT '0' NOT NULL;

CREATE TABLE revoked_sessions (
    session_id VARCHAR(64) NOT NULL, 
    user_id INTEGER NOT NULL, 
    expires_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
    CONSTRAINT pk_revoked_sessions PRIMARY KEY (session_id), 
    CONSTRAINT fk_revoked_sessions_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE
);

CREATE INDEX ix_revoked_sessions_expires_at ON revoked_sessions (expires_at);

ALTER TABLE login_failures ADD COLUMN client_key VARCHAR(64);

CREATE INDEX ix_login_failures_client_key_failed_at ON login_failures (client_key, failed_at);

UPDATE alembic_version SET version_num='0003' WHERE alembic_version.version_num = '0002';

-- Running upgrade 0003 -> 0004

CREATE TABLE accounts (
    id SERIAL NOT NULL, 
    user_id INTEGER NOT NULL, 
    name VARCHAR(100) NOT NULL, 
    kind VARCHAR(20) DEFAULT 'checking' NOT NULL, 
    currency VARCHAR(3) DEFAULT 'USD' NOT NULL, 
    institution VARCHAR(100), 
    created_at TIMESTAMP WITHOUT TIME ZONE DEFAULT now() NOT NULL, 
    CONSTRAINT pk_accounts PRIMARY KEY (id), 
    CONSTRAINT fk_accounts_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE, 
    CONSTRAINT uq_accounts_user_id_name UNIQUE (user_id, name), 
    CONSTRAINT uq_accounts_user_id_id UNIQUE (user_id, id), 
    CONSTRAINT ck_accounts_ck_accounts_kind CHECK (kind IN ('checking', 'savings', 'credit_card', 'cash', 'wallet', 'loan')), 
    CONSTRAINT ck_accounts_ck_accounts_currency CHECK (currency ~ '^[A-Z]{3}$')
);

CREATE TABLE categories (
    id SERIAL NOT NULL, 
    user_id INTEGER NOT NULL, 
    name VARCHAR(100) NOT NULL, 
    kind VARCHAR(10) DEFAULT 'spending' NOT NULL, 
    colour VARCHAR(7), 
    parent_id INTEGER, 
    created_at TIMESTAMP WITHOUT TIME ZONE DEFAULT now() NOT NULL, 
    CONSTRAINT pk_categories PRIMARY KEY (id), 
    CONSTRAINT fk_categories_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE, 
    CONSTRAINT fk_categories_parent_id_categories FOREIGN KEY(parent_id) REFERENCES categories (id) ON DELETE SET NULL, 
    CONSTRAINT uq_categories_user_id_name UNIQUE (user_id, name), 
    CONSTRAINT ck_categories_ck_categories_kind CHECK (kind IN ('spending', 'income', 'transfer')), 
    CONSTRAINT ck_categories_ck_categories_colour CHECK (colour ~ '^#[0-9a-fA-F]{6}$')
);

CREATE TABLE rules (
    id SERIAL NOT NULL, 
    user_id INTEGER NOT NULL, 
    position INTEGER NOT NULL, 
    name VARCHAR(100) NOT NULL, 
    conditions JSONB NOT NULL, 
    actions JSONB NOT NULL, 
    enabled BOOLEAN DEFAULT true NOT NULL, 
    created_at TIMESTAMP WITHOUT TIME ZONE DEFAULT now() NOT NULL, 
    CONSTRAINT pk_rules PRIMARY KEY (id), 
    CONSTRAINT fk_rules_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE
);

CREATE INDEX ix_rules_user_id_position ON rules (user_id, position);

CREATE TABLE imports (
    id BIGSERIAL NOT NULL, 
    user_id INTEGER NOT NULL, 
    account_id INTEGER NOT NULL, 
    file_name VARCHAR(255), 
    format VARCHAR(10) NOT NULL, 
    row_count INTEGER NOT NULL, 
    inserted_count INTEGER NOT NULL, 
    duplicate_count INTEGER NOT NULL, 
    skipped_count INTEGER NOT NULL, 
    created_at TIMESTAMP WITHOUT TIME ZONE DEFAULT now() NOT NULL, 
    CONSTRAINT pk_imports PRIMARY KEY (id), 
    CONSTRAINT fk_imports_user_id_accounts FOREIGN KEY(user_id, account_id) REFERENCES accounts (user_id, id) ON DELETE CASCADE
);

CREATE INDEX ix_imports_user_id_created_at ON imports (user_id, created_at);

CREATE TABLE import_profiles (
    id SERIAL NOT NULL, 
    user_id INTEGER NOT NULL, 
    account_id INTEGER NOT NULL, 
    signature VARCHAR(64) NOT NULL, 
    options JSONB NOT NULL, 
    updated_at TIMESTAMP WITHOUT TIME ZONE DEFAULT now() NOT NULL, 
    CONSTRAINT pk_import_profiles PRIMARY KEY (id), 
    CONSTRAINT fk_import_profiles_user_id_accounts FOREIGN KEY(user_id, account_id) REFERENCES accounts (user_id, id) ON DELETE CASCADE, 
    CONSTRAINT uq_import_profiles_account_id_signature UNIQUE (account_id, signature)
);

CREATE TABLE removed_import_keys (
    account_id INTEGER NOT NULL, 
    dedup_key VARCHAR(64) NOT NULL, 
    CONSTRAINT pk_removed_import_keys PRIMARY KEY (account_id, dedup_key), 
    CONSTRAINT fk_removed_import_keys_account_id_accounts FOREIGN KEY(account_id) REFERENCES accounts (id) ON DELETE CASCADE
);

INSERT INTO accounts (user_id, name, kind, currency) SELECT id, 'Main account', 'checking', 'USD' FROM users;

CREATE TEMPORARY TABLE default_categories (name varchar(100), kind varchar(10));

INSERT INTO default_categories (name, kind) VALUES ('Groceries', 'spending');

INSERT INTO default_categories (name, kind) VALUES ('Dining out', 'spending');

INSERT INTO default_categories (name, kind) VALUES ('Rent', 'spending');

INSERT INTO default_categories (name, kind) VALUES ('Utilities', 'spending');

INSERT INTO default_categories (name, kind) VALUES ('Transport', 'spending');

INSERT INTO default_categories (name, kind) VALUES ('Shopping', 'spending');

INSERT INTO default_categories (name, kind) VALUES ('Health', 'spending');

INSERT INTO default_categories (name, kind) VALUES ('Entertainment', 'spending');

INSERT INTO default_categories (name, kind) VALUES ('Travel', 'spending');

INSERT INTO default_categories (name, kind) VALUES ('Subscriptions', 'spending');

INSERT INTO default_categories (name, kind) VALUES ('Fees', 'spending');

INSERT INTO default_categories (name, kind) VALUES ('Uncategorized', 'spending');

INSERT INTO default_categories (name, kind) VALUES ('Salary', 'income');

INSERT INTO default_categories (name, kind) VALUES ('Other income', 'income');

INSERT INTO default_categories (name, kind) VALUES ('Uncategorized income', 'income');

INSERT INTO default_categories (name, kind) VALUES ('Transfer', 'transfer');

INSERT INTO default_categories (name, kind) VALUES ('Credit card payment', 'transfer');

INSERT INTO default_categories (name, kind) VALUES ('Savings', 'transfer');

INSERT INTO categories (user_id, name, kind) SELECT u.id, d.name, d.kind FROM users u CROSS JOIN default_categories d;

INSERT INTO categories (user_id, name, kind) SELECT DISTINCT user_id, category, 'spending' FROM transactions ON CONFLICT (user_id, name) DO NOTHING;

DROP TABLE default_categories;

ALTER TABLE transactions ADD COLUMN account_id INTEGER;

UPDATE transactions t SET account_id = a.id FROM accounts a WHERE a.user_id = t.user_id;

ALTER TABLE transactions ALTER COLUMN account_id SET NOT NULL;

ALTER TABLE transactions ADD COLUMN notes TEXT;

ALTER TABLE transactions ADD COLUMN original_description TEXT;

ALTER TABLE transactions ADD COLUMN import_id BIGINT;

ALTER TABLE transactions ADD COLUMN category_source VARCHAR(10) DEFAULT 'default' NOT NULL;

ALTER TABLE transactions ADD COLUMN category_rule_id INTEGER;

ALTER TABLE transactions ADD COLUMN category_confidence NUMERIC(4, 3);

ALTER TABLE transactions ADD COLUMN suggested_category VARCHAR(100);

ALTER TABLE transactions ADD COLUMN suggestion_confidence NUMERIC(4, 3);

ALTER TABLE transactions ALTER COLUMN dedup_key DROP NOT NULL;

ALTER TABLE transactions ADD CONSTRAINT ck_transactions_ck_transactions_category_source CHECK (category_source IN ('user', 'rule', 'bank', 'learned', 'default'));

ALTER TABLE transactions DROP CONSTRAINT fk_transactions_user_id_users;

ALTER TABLE transactions ADD CONSTRAINT fk_transactions_account FOREIGN KEY(user_id, account_id) REFERENCES accounts (user_id, id) ON DELETE CASCADE;

ALTER TABLE transactions ADD CONSTRAINT fk_transactions_import_id_imports FOREIGN KEY(import_id) REFERENCES imports (id) ON DELETE CASCADE;

ALTER TABLE transactions ADD CONSTRAINT fk_transactions_category_rule_id_rules FOREIGN KEY(category_rule_id) REFERENCES rules (id) ON DELETE SET NULL;

ALTER TABLE transactions DROP CONSTRAINT uq_transactions_user_id_dedup_key;

ALTER TABLE transactions ADD CONSTRAINT uq_transactions_account_id_dedup_key UNIQUE (account_id, dedup_key);

CREATE INDEX ix_transactions_import_id ON transactions (import_id) WHERE import_id IS NOT NULL;

CREATE INDEX ix_transactions_user_id_category ON transactions (user_id, category);

CREATE TABLE transfer_pairs (
    id BIGSERIAL NOT NULL, 
    user_id INTEGER NOT NULL, 
    out_transaction_id BIGINT NOT NULL, 
    in_transaction_id BIGINT NOT NULL, 
    out_previous_category VARCHAR(100) NOT NULL, 
    in_previous_category VARCHAR(100) NOT NULL, 
    created_at TIMESTAMP WITHOUT TIME ZONE DEFAULT now() NOT NULL, 
    CONSTRAINT pk_transfer_pairs PRIMARY KEY (id), 
    CONSTRAINT fk_transfer_pairs_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE, 
    CONSTRAINT fk_transfer_pairs_out_transaction_id_transactions FOREIGN KEY(out_transaction_id) REFERENCES transactions (id) ON DELETE CASCADE, 
    CONSTRAINT fk_transfer_pairs_in_transaction_id_transactions FOREIGN KEY(in_transaction_id) REFERENCES transactions (id) ON DELETE CASCADE, 
    CONSTRAINT uq_transfer_pairs_out_transaction_id UNIQUE (out_transaction_id), 
    CONSTRAINT uq_transfer_pairs_in_transaction_id UNIQUE (in_transaction_id)
);

CREATE INDEX ix_transfer_pairs_user_id ON transfer_pairs (user_id);

DELETE FROM daily_category_spend;

ALTER TABLE daily_category_spend ADD COLUMN account_id INTEGER NOT NULL;

ALTER TABLE daily_category_spend DROP CONSTRAINT pk_daily_category_spend;

ALTER TABLE daily_category_spend ADD CONSTRAINT pk_daily_category_spend PRIMARY KEY (user_id, day, account_id, category);

CREATE OR REPLACE FUNCTION maintain_daily_category_spend() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE daily_category_spend AS d
        SET total = d.total - o.total,
            transaction_count = d.transaction_count - o.n
        FROM (
            SELECT user_id, CAST("timestamp" AS date) AS day, account_id, category,
                   sum(amount) AS total, count(*) AS n
            FROM old_rows GROUP BY 1, 2, 3, 4
        ) AS o
        WHERE d.user_id = o.user_id AND d.day = o.day AND d.account_id = o.account_id
          AND d.category = o.category;
        DELETE FROM daily_category_spend AS d
        WHERE d.transaction_count = 0
          AND (d.user_id, d.day, d.account_id, d.category) IN (
              SELECT user_id, CAST("timestamp" AS date), account_id, category FROM old_rows
          );
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO categories (user_id, name, kind)
        SELECT user_id, category,
               CASE WHEN sum(amount) < 0 THEN 'income' ELSE 'spending' END
        FROM new_rows AS n
        WHERE NOT EXISTS (
            SELECT 1 FROM categories AS c WHERE c.user_id = n.user_id AND c.name = n.category
        )
        GROUP BY user_id, category
        ORDER BY user_id, category
        ON CONFLICT (user_id, name) DO NOTHING;
        INSERT INTO daily_category_spend AS d
            (user_id, day, account_id, category, total, transaction_count)
        SELECT user_id, CAST("timestamp" AS date), account_id, category, sum(amount), count(*)
        FROM new_rows GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
        ON CONFLICT (user_id, day, account_id, category) DO UPDATE
        SET total = d.total + EXCLUDED.total,
            transaction_count = d.transaction_count + EXCLUDED.transaction_count;
        UPDATE users AS u SET data_version = u.data_version + 1
        FROM (SELECT DISTINCT user_id FROM new_rows) AS changed
        WHERE u.id = changed.user_id;
    ELSE
        UPDATE users AS u SET data_version = u.data_version + 1
        FROM (SELECT DISTINCT user_id FROM old_rows) AS changed
        WHERE u.id = changed.user_id;
    END IF;
    RETURN NULL;
END
$$;

INSERT INTO daily_category_spend (user_id, day, account_id, category, total, transaction_count) SELECT user_id, CAST("timestamp" AS date), account_id, category, sum(amount), count(*) FROM transactions GROUP BY 1, 2, 3, 4;

CREATE FUNCTION bump_version_on_category_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE users AS u SET data_version = u.data_version + 1
    WHERE u.id = COALESCE(NEW.user_id, OLD.user_id);
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER categories_bump_version AFTER INSERT OR UPDATE OR DELETE ON categories
DEFERRABLE INITIALLY DEFERRED
FOR EACH ROW EXECUTE FUNCTION bump_version_on_category_change();

UPDATE alembic_version SET version_num='0004' WHERE alembic_version.version_num = '0003';

-- Running upgrade 0004 -> 0005

DROP INDEX ix_transactions_user_id_amount;

ALTER TABLE transactions DROP CONSTRAINT fk_transactions_account;

ALTER TABLE transactions DROP CONSTRAINT fk_transactions_import_id_imports;

CREATE FUNCTION check_transaction_references() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ref record;
BEGIN
    FOR ref IN SELECT DISTINCT user_id, account_id, import_id FROM new_rows LOOP
        PERFORM FROM accounts WHERE user_id = ref.user_id AND id = ref.account_id
        FOR KEY SHARE;
        IF NOT FOUND THEN
            RAISE foreign_key_violation USING
                MESSAGE = 'a transaction names an account that its user does not have',
                CONSTRAINT = 'fk_transactions_account', TABLE = 'transactions';
        END IF;
        IF ref.import_id IS NOT NULL THEN
            PERFORM FROM imports WHERE id = ref.import_id FOR KEY SHARE;
            IF NOT FOUND THEN
                RAISE foreign_key_violation USING
                    MESSAGE = 'a transaction names an import that does not exist',
                    CONSTRAINT = 'fk_transactions_import_id_imports', TABLE = 'transactions';
            END IF;
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;

CREATE FUNCTION delete_transactions_of_accounts() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM transactions AS t
    USING old_rows AS o
    WHERE t.account_id = o.id AND t.user_id = o.user_id;
    RETURN NULL;
END
$$;

CREATE FUNCTION delete_transactions_of_imports() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM transactions AS t USING old_rows AS o WHERE t.import_id = o.id;
    RETURN NULL;
END
$$;

CREATE FUNCTION refuse_key_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE foreign_key_violation USING
        MESSAGE = format('the key of a %s row is referenced by transactions', TG_TABLE_NAME),
        TABLE = TG_TABLE_NAME;
END
$$;

CREATE TRIGGER transactions_check_references_insert AFTER INSERT ON transactions REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION check_transaction_references();

CREATE TRIGGER transactions_check_references_update AFTER UPDATE ON transactions REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION check_transaction_references();

CREATE TRIGGER accounts_delete_transactions AFTER DELETE ON accounts REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION delete_transactions_of_accounts();

CREATE TRIGGER imports_delete_transactions AFTER DELETE ON imports REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION delete_transactions_of_imports();

CREATE TRIGGER accounts_fixed_key BEFORE UPDATE OF id, user_id ON accounts FOR EACH ROW WHEN (OLD.id <> NEW.id OR OLD.user_id <> NEW.user_id) EXECUTE FUNCTION refuse_key_change();

CREATE TRIGGER imports_fixed_key BEFORE UPDATE OF id ON imports FOR EACH ROW WHEN (OLD.id <> NEW.id) EXECUTE FUNCTION refuse_key_change();

ALTER TABLE transactions DROP CONSTRAINT uq_transactions_account_id_dedup_key;

ALTER TABLE transactions ALTER COLUMN dedup_key TYPE VARCHAR(64) COLLATE "C";

ALTER TABLE removed_import_keys ALTER COLUMN dedup_key TYPE VARCHAR(64) COLLATE "C";

CREATE UNIQUE INDEX uq_transactions_account_id_timestamp_dedup_key ON transactions (account_id, timestamp, dedup_key);

CREATE UNIQUE INDEX uq_transactions_account_id_bank_key ON transactions (account_id, dedup_key) WHERE starts_with(dedup_key, 'id:');

UPDATE alembic_version SET version_num='0005' WHERE alembic_version.version_num = '0004';

-- Running upgrade 0005 -> 0006

CREATE INDEX ix_transactions_review_queue ON transactions (user_id, amount, id) WHERE (category_source = 'default' OR (category_source = 'learned' AND coalesce(category_confidence, 0) < 0.95));

CREATE INDEX ix_transactions_user_corrections ON transactions (user_id, id) WHERE category_source = 'user';

UPDATE alembic_version SET version_num='0006' WHERE alembic_version.version_num = '0005';

COMMIT;

