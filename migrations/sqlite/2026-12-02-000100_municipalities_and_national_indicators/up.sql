-- More than one municipality: users belong to one (system_admin and analyst to none), the audit
-- log says whose change it was, and the national catalogue of indicator definitions.
-- Foreign keys are switched off for the users rebuild (SQLite's documented 12-step procedure); the
-- rows are copied with their ids, so every reference to a user still holds.
PRAGMA foreign_keys = OFF;
BEGIN;

CREATE TABLE users_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('system_admin', 'analyst', 'admin', 'hq', 'department', 'viewer')),
    department_id INTEGER REFERENCES departments(id),
    active BOOLEAN NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    token_version INTEGER NOT NULL DEFAULT 0,
    municipality_id INTEGER REFERENCES municipalities(id),
    CHECK (role NOT IN ('system_admin', 'analyst') OR municipality_id IS NULL)
);
-- Existing users: the municipality of their department, else the one the database was made for
-- (the lowest id). In a database that holds no municipality yet, an admin becomes the
-- system_admin: the one who will register municipalities.
INSERT INTO users_new
SELECT u.id, u.username, u.display_name, u.password_hash,
       CASE WHEN u.role = 'admin' AND NOT EXISTS (SELECT 1 FROM municipalities) THEN 'system_admin' ELSE u.role END,
       u.department_id, u.active, u.created_at, u.updated_at, u.token_version,
       COALESCE((SELECT d.municipality_id FROM departments d WHERE d.id = u.department_id),
                (SELECT MIN(m.id) FROM municipalities m))
FROM users u;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
CREATE INDEX users_municipality ON users(municipality_id);

ALTER TABLE audit_log ADD COLUMN municipality_id INTEGER REFERENCES municipalities(id);
UPDATE audit_log SET municipality_id = (SELECT MIN(id) FROM municipalities);
CREATE INDEX audit_log_municipality ON audit_log(municipality_id, occurred_at);

-- The national catalogue: the six 重点取組事項 of the 自治体DX推進計画 (seed 001; the 令和2年12月25日 there is
-- the デジタル・ガバメント実行計画's 閣議決定, not this plan's date; sources corrected in 2026-12-05-000300)
-- and indicators that measure them, shared by every municipality. Reference data every database
-- needs before its first request, so it is seeded here; a revision of the catalogue is a new migration.
CREATE TABLE national_indicators (
    code TEXT PRIMARY KEY,
    priority_number INTEGER NOT NULL,
    priority_name TEXT NOT NULL,
    name TEXT NOT NULL,
    unit TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('count', 'ratio', 'percent', 'milestone')),
    direction TEXT NOT NULL,
    numerator_definition TEXT,
    denominator_definition TEXT,
    description TEXT NOT NULL,
    source TEXT NOT NULL
);

INSERT INTO national_indicators VALUES
('dx1-standard-systems-migrated', 1, '自治体の情報システムの標準化・共通化', '標準準拠システムへの移行率', '%', 'ratio', 'increase',
 '標準準拠システムへ移行した基幹業務の数', '標準化の対象となる基幹業務の数',
 '国の標準仕様に基づくシステムへ移行を終えた基幹業務の割合。', '自治体DX推進計画(総務省、令和2年12月25日)重点取組事項1'),
('dx2-mynumber-card-issuance-rate', 2, 'マイナンバーカードの普及促進', 'マイナンバーカード交付率', '%', 'ratio', 'increase',
 'マイナンバーカードの交付枚数(累計)', '住民基本台帳人口',
 '住民基本台帳人口に対するマイナンバーカード交付枚数の割合(令和5年度からは保有枚数による保有率も公表)。', '自治体DX推進計画(総務省、令和2年12月25日)重点取組事項2'),
('dx2-mynumber-card-holding-rate', 2, 'マイナンバーカードの普及促進', 'マイナンバーカード保有率', '%', 'ratio', 'increase',
 'マイナンバーカードの保有枚数(交付枚数から失効等を除いた枚数)', '住民基本台帳人口',
 '住民基本台帳人口に対する有効なマイナンバーカードの枚数の割合。', '自治体DX推進計画(総務省、令和2年12月25日)重点取組事項2'),
('dx3-online-procedures', 3, '自治体の行政手続きのオンライン化', 'マイナポータルからオンライン申請できる手続の数', '手続', 'count', 'increase',
 NULL, NULL,
 'マイナポータル(ぴったりサービス)等からオンラインで申請できる手続の数。', '自治体DX推進計画(総務省、令和2年12月25日)重点取組事項3'),
('dx3-online-application-rate', 3, '自治体の行政手続きのオンライン化', 'オンライン申請の利用率', '%', 'ratio', 'increase',
 'オンライン化した手続のオンラインによる申請件数', 'オンライン化した手続の申請件数の合計',
 'オンラインで申請できる手続について、申請のうちオンラインで行われたものの割合。', '自治体DX推進計画(総務省、令和2年12月25日)重点取組事項3'),
('dx4-rpa-processes', 4, '自治体のAI・RPAの利用推進', 'RPAを導入した業務の数', '業務', 'count', 'increase',
 NULL, NULL,
 'RPAによる自動処理を導入した業務の数。', '自治体DX推進計画(総務省、令和2年12月25日)重点取組事項4'),
('dx4-ai-services', 4, '自治体のAI・RPAの利用推進', 'AIを活用したサービス・業務の数', '件', 'count', 'increase',
 NULL, NULL,
 'AI(音声認識による会議録作成支援、AI-OCR、チャットボット等)を導入したサービス・業務の数。', '自治体DX推進計画(総務省、令和2年12月25日)重点取組事項4'),
('dx5-telework-staff-rate', 5, 'テレワークの推進', 'テレワーク実施職員の割合', '%', 'ratio', 'increase',
 '年度内にテレワークを実施した職員の数', '職員の数',
 '職員のうち年度内にテレワークを実施した職員の割合。', '自治体DX推進計画(総務省、令和2年12月25日)重点取組事項5'),
('dx6-security-training-rate', 6, 'セキュリティ対策の徹底', '情報セキュリティ研修の受講率', '%', 'ratio', 'maintain_at_least',
 '情報セキュリティ研修を受講した職員の数', '受講の対象となる職員の数',
 '情報セキュリティ研修の対象職員のうち受講した職員の割合(100%維持)。', '自治体DX推進計画(総務省、令和2年12月25日)重点取組事項6'),
('dx6-security-incidents', 6, 'セキュリティ対策の徹底', '重大な情報セキュリティインシデントの件数', '件', 'count', 'maintain_at_most',
 NULL, NULL,
 '個人情報の漏えい等、重大な情報セキュリティインシデントの発生件数(0件維持)。', '自治体DX推進計画(総務省、令和2年12月25日)重点取組事項6');

ALTER TABLE indicators ADD COLUMN national_indicator_code TEXT REFERENCES national_indicators(code);
CREATE INDEX indicators_national ON indicators(national_indicator_code);
-- A municipality's plans (lists, isolation); actuals are reached by (indicator_id, fiscal_year),
-- which their unique key already indexes.
CREATE INDEX plans_municipality ON plans(municipality_id);
CREATE INDEX departments_municipality ON departments(municipality_id);

COMMIT;
PRAGMA foreign_keys = ON;
