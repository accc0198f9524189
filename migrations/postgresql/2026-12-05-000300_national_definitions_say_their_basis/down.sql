-- Back to the definitions as 2026-12-02-000100 seeded them.
UPDATE national_indicators
SET source = '自治体DX推進計画(総務省、令和2年12月25日)重点取組事項' || priority_number;
UPDATE national_indicators SET description = '情報セキュリティ研修の対象職員のうち受講した職員の割合(100%維持)。'
WHERE code = 'dx6-security-training-rate';
UPDATE national_indicators SET description = '個人情報の漏えい等、重大な情報セキュリティインシデントの発生件数(0件維持)。'
WHERE code = 'dx6-security-incidents';
ALTER TABLE national_indicators DROP COLUMN survey;
ALTER TABLE national_indicators DROP COLUMN published_by;
ALTER TABLE national_indicators DROP COLUMN basis;
