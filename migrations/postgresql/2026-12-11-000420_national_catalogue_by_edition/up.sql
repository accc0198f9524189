-- The national catalogue by edition (issue 22): each edition of the 自治体DX推進計画 with its date as
-- stated, its 重点取組事項 in force, and for each item the item of the previous edition it continues
-- (same or renamed; none: added). A later edition is added by an import, not a migration.
-- Editions are ordered by id: an import appends after the latest one.
CREATE TABLE national_editions (
    id SERIAL PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    issued TEXT,
    source TEXT NOT NULL,
    reading_note TEXT,
    recorded_at TIMESTAMP NOT NULL
);
CREATE TABLE national_edition_items (
    edition_id INTEGER NOT NULL REFERENCES national_editions(id),
    number INTEGER NOT NULL,
    name TEXT NOT NULL,
    continues_number INTEGER,
    PRIMARY KEY (edition_id, number)
);
-- The first edition as seed 001 gives it: its six 重点取組事項, its 対象期間, no issue date (the
-- 令和2年12月25日 there is the デジタル・ガバメント実行計画's 閣議決定) and no edition number.
INSERT INTO national_editions (id, code, name, issued, source, reading_note, recorded_at) VALUES
(1, 'first', '自治体デジタル・トランスフォーメーション(DX)推進計画', NULL,
 'seed 001(板橋区「板橋区におけるデジタルトランスフォーメーションの推進について」4 自治体DX推進計画の重点取組事項)',
 'seed 001 は本計画の発行日も版番号も記していない。令和2年12月25日は「デジタル・ガバメント実行計画」の閣議決定日であり、本計画については対象期間(令和3年1月から令和8年3月まで)のみを記している。',
 CURRENT_TIMESTAMP),
(2, '2.3', '自治体デジタル・トランスフォーメーション(DX)推進計画【第2.3版】', '2024-02-05',
 'issue 22 の本文(総務省の公表資料そのものは seeds にない)。第1.1版から第2.2版までは出典がなく、登録していない。',
 '前の版の項目との対応は、名称が同じもの(標準化・共通化、AI・RPA、テレワーク、セキュリティ)と、名称の前半が同じ「マイナンバーカードの普及促進」を本製品が対応づけたもの。issue 22 は項目名だけを示す。',
 CURRENT_TIMESTAMP);

INSERT INTO national_edition_items (edition_id, number, name, continues_number) VALUES
(1, 1, '自治体の情報システムの標準化・共通化', NULL),
(1, 2, 'マイナンバーカードの普及促進', NULL),
(1, 3, '自治体の行政手続きのオンライン化', NULL),
(1, 4, '自治体のAI・RPAの利用推進', NULL),
(1, 5, 'テレワークの推進', NULL),
(1, 6, 'セキュリティ対策の徹底', NULL),
(2, 1, '自治体フロントヤード改革の推進', NULL),
(2, 2, '自治体の情報システムの標準化・共通化', 1),
(2, 3, '公金収納におけるeLTAXの活用', NULL),
(2, 4, 'マイナンバーカードの普及促進・利用の推進', 2),
(2, 5, 'セキュリティ対策の徹底', 6),
(2, 6, '自治体のAI・RPAの利用推進', 4),
(2, 7, 'テレワークの推進', 5);

-- Every definition so far was set under the first edition; its priority_number is that edition's
-- item number. 
ALTER TABLE national_indicators ADD COLUMN edition_id INTEGER NOT NULL DEFAULT 1 REFERENCES national_editions(id);
SELECT setval(pg_get_serial_sequence('national_editions', 'id'), 2);
