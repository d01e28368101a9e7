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

COMMIT;

