-- Each national definition states its basis: a national statistic (who publishes it, in which
-- survey) or a definition this product proposes for comparison. Seed 001 lists the 重点取組事項 of
-- the 自治体DX推進計画 (対象期間: 令和3年1月から令和8年3月まで) but defines no KPI for them, so only the
-- マイナンバーカード rates, which 総務省 publishes, are national statistics. A local target
-- (板橋区's 「100%維持」「0件維持」) is no part of a national definition.
ALTER TABLE national_indicators ADD COLUMN basis TEXT NOT NULL DEFAULT 'proposed_for_comparison'
    CHECK (basis IN ('national_statistic', 'proposed_for_comparison'));
ALTER TABLE national_indicators ADD COLUMN published_by TEXT;
ALTER TABLE national_indicators ADD COLUMN survey TEXT;

UPDATE national_indicators
SET basis = 'national_statistic', published_by = '総務省', survey = 'マイナンバーカード交付状況',
    source = '総務省「マイナンバーカード交付状況」。自治体DX推進計画(seed 001)の重点取組事項' || priority_number || '「' || priority_name || '」に対応づける'
WHERE code IN ('dx2-mynumber-card-issuance-rate', 'dx2-mynumber-card-holding-rate');

UPDATE national_indicators
SET source = '本製品が比較のために提案する定義(自治体DX推進計画が定めた指標ではない)。自治体DX推進計画(seed 001)の重点取組事項' || priority_number || '「' || priority_name || '」に対応づける'
WHERE basis = 'proposed_for_comparison';

UPDATE national_indicators SET description = '情報セキュリティ研修の対象職員のうち受講した職員の割合。'
WHERE code = 'dx6-security-training-rate';
UPDATE national_indicators SET description = '個人情報の漏えい等、重大な情報セキュリティインシデントの発生件数。'
WHERE code = 'dx6-security-incidents';
