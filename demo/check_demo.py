#!/usr/bin/env python3.11
"""Check demo/itabashi-ict-2020.toml: structure, references, enums, decimals, milestones.

Usage: python3.11 demo/check_demo.py [path/to/file.toml] [--seed path/to/seed.txt]
Standard library only. Exits non-zero with a list of problems; prints counts on success.
If the seed text is available (default /work/shared/seeds/003_acbd9fd11ab82639.txt), names and numbers
are also looked up in it.
"""
from __future__ import annotations

import re
import sys
import tomllib
from decimal import Decimal, InvalidOperation
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_FILE = HERE / 'itabashi-ict-2020.toml'
DEFAULT_SEED = Path('/work/shared/seeds/003_acbd9fd11ab82639.txt')

PLAN_STATUS = {'draft', 'active', 'closed'}
MEASURE_STATUS = {'active', 'completed'}
REVIEW = {'継続', '変更', '完了', '新規', '官デ新', '官デ変'}
KINDS = {'count', 'ratio', 'percent', 'milestone'}
DIRECTIONS = {'increase', 'decrease', 'maintain_at_least', 'maintain_at_most', 'trend_up', 'trend_down', 'milestone'}
CODE_RE = re.compile(r'^[a-z0-9]+(-[a-z0-9]+)*$')

problems: list[str] = []


def fail(where: str, msg: str) -> None:
    problems.append(f'{where}: {msg}')


def check(cond: bool, where: str, msg: str) -> bool:
    if not cond:
        fail(where, msg)
    return cond


def is_decimal(s) -> bool:
    if not isinstance(s, str) or not re.fullmatch(r'-?\d+(\.\d+)?', s):
        return False
    try:
        Decimal(s)
        return True
    except InvalidOperation:
        return False


def fy(v) -> bool:
    return isinstance(v, int) and 1990 <= v <= 2100


def municipality_code_ok(code: str) -> bool:
    if not re.fullmatch(r'\d{5}|\d{6}', code):
        return False
    digits = [int(c) for c in code[:5]]
    r = sum(d * w for d, w in zip(digits, (6, 5, 4, 3, 2))) % 11
    check_digit = (11 - r) % 10
    return len(code) == 5 or int(code[5]) == check_digit


def pdf_space(s: str) -> bool:
    """A space with a CJK/full-width character on either side (the PDF-extraction artefact)."""
    for m in re.finditer(' ', s):
        a = s[m.start() - 1] if m.start() else ''
        b = s[m.end()] if m.end() < len(s) else ''
        if (a and ord(a) >= 0x3000) or (b and ord(b) >= 0x3000):
            return True
    return False


def main(argv: list[str]) -> int:
    args = [a for a in argv[1:]]
    seed_path = DEFAULT_SEED
    if '--seed' in args:
        i = args.index('--seed')
        seed_path = Path(args[i + 1])
        del args[i:i + 2]
    path = Path(args[0]) if args else DEFAULT_FILE
    with open(path, 'rb') as f:
        doc = tomllib.load(f)

    # --- municipality / plan ----------------------------------------------------------------
    mun = doc.get('municipality', {})
    check(mun.get('code') == '131199', 'municipality', f'code {mun.get("code")!r} != "131199"')
    check(municipality_code_ok(mun.get('code', '')), 'municipality', 'bad check digit')
    check(mun.get('name') == '板橋区', 'municipality', 'name')

    plan = doc.get('plan', {})
    check(plan.get('code') == 'itabashi-ict-2020', 'plan', 'code')
    check(plan.get('status') in PLAN_STATUS, 'plan', f'status {plan.get("status")!r}')
    start, end = plan.get('start_fiscal_year'), plan.get('end_fiscal_year')
    check((start, end) == (2016, 2020), 'plan', f'period {start}-{end}')
    check(plan.get('baseline_fiscal_year') == 2017, 'plan', 'baseline_fiscal_year')
    phases = plan.get('phases', [])
    check(len(phases) == 1 and phases[0].get('name') == '追録版'
          and (phases[0].get('start_fiscal_year'), phases[0].get('end_fiscal_year')) == (2018, 2020),
          'plan.phases', 'expected one phase 追録版 2018–2020')
    for p in phases:
        check(start <= p['start_fiscal_year'] <= p['end_fiscal_year'] <= end, 'plan.phases', 'phase outside plan')

    def in_plan(v) -> bool:
        return isinstance(v, int) and start <= v <= end

    # --- departments ------------------------------------------------------------------------
    depts = {}
    for d in doc.get('departments', []):
        code = d.get('code', '')
        check(CODE_RE.match(code) is not None, f'department {code!r}', 'code is not lowercase ASCII')
        check(code not in depts, f'department {code!r}', 'duplicate code')
        check(bool(d.get('name')) and not pdf_space(d['name']) and ' ' not in d['name'],
              f'department {code!r}', 'name empty or contains spaces')
        depts[code] = d
    names = [d['name'] for d in depts.values()]
    check(len(names) == len(set(names)), 'departments', 'duplicate names')
    for code, d in depts.items():
        if 'parent' in d:
            check(d['parent'] in depts and d['parent'] != code, f'department {code!r}', f'unknown parent {d["parent"]!r}')
            check('parent' not in depts.get(d['parent'], {}), f'department {code!r}', 'parent is itself a sub-unit')

    # --- goals / strategies -----------------------------------------------------------------
    goals = {g['number']: g for g in doc.get('goals', [])}
    check(sorted(goals) == [1, 2, 3, 4, 5, 6], 'goals', f'numbers {sorted(goals)}')
    check(goals.get(6, {}).get('name') == '計画に関する進捗管理', 'goals', 'goal 6 name')
    strategies = {s['number']: s for s in doc.get('strategies', [])}
    check(sorted(strategies) == [1, 2, 3, 4], 'strategies', f'numbers {sorted(strategies)}')
    s1 = strategies.get(1, {})
    check(s1.get('name') == '官民データの利活用' and s1.get('former_name') == 'データの利活用'
          and s1.get('revised_fiscal_year') == 2018, 'strategy 1', 'name/former_name/revised_fiscal_year')

    # --- measures ---------------------------------------------------------------------------
    measures = doc.get('measures', [])
    numbers = [m.get('number') for m in measures]
    check(numbers == list(range(1, 42)), 'measures', f'expected 1..41 in order, got {numbers}')

    counts = dict(indicators=0, count=0, ratio=0, percent=0, milestone=0, target_revisions=0,
                  retired=0, roadmap=0, completed=0, added_measures=0, added_indicators=0)
    directions: dict[str, int] = {}
    seed_text = None
    if seed_path.exists():
        # whitespace and footnote markers (¹ … ²⁸) removed, as in the transcription
        seed_text = re.sub(r'[\s\u3000¹²³⁴⁵⁶⁷⁸⁹⁰]', '', seed_path.read_text(encoding='utf-8'))

    def in_seed(s: str) -> bool:
        return seed_text is None or re.sub(r'\s', '', s) in seed_text

    for m in measures:
        no = m.get('number')
        w = f'No.{no}'
        check(bool(m.get('name')) and not pdf_space(m['name']), w, 'name empty or has PDF spaces')
        check(in_seed(m.get('name', '')), w, f'name {m.get("name")!r} not found in seed')
        for fn in m.get('former_names', []):
            check(isinstance(fn, str) and fn and fn != m['name'], w, f'bad former name {fn!r}')
        check(m.get('review_category') in REVIEW, w, f'review_category {m.get("review_category")!r}')
        if 'strategy' in m:
            check(m['strategy'] in strategies, w, f'unknown strategy {m["strategy"]}')
        check(m.get('main_goal') in goals, w, f'unknown main_goal {m.get("main_goal")}')
        sec = m.get('secondary_goals', [])
        check(all(g in goals for g in sec), w, f'unknown secondary goal in {sec}')
        check(m.get('main_goal') not in sec, w, 'main goal also listed as secondary')
        check(len(sec) == len(set(sec)), w, 'duplicate secondary goals')
        owners = m.get('owners', [])
        check(len(owners) >= 1, w, 'no owners')
        check(len(owners) == len(set(owners)), w, 'duplicate owners')
        for o in owners:
            check(o in depts, w, f'unknown owner {o!r}')
        for o, y in m.get('owners_added_fiscal_year', {}).items():
            check(o in owners, w, f'owners_added_fiscal_year names {o!r}, not an owner')
            check(in_plan(y), w, f'owners_added_fiscal_year {y}')
        check(isinstance(m.get('owners_and_others'), bool), w, 'owners_and_others must be a bool')
        status = m.get('status')
        check(status in MEASURE_STATUS, w, f'status {status!r}')
        check(bool(m.get('summary')) and not pdf_space(m['summary']), w, 'summary empty or has PDF spaces')
        check(in_seed(m.get('summary', '')), w, 'summary not found in seed')
        if 'added_fiscal_year' in m:
            check(in_plan(m['added_fiscal_year']), w, 'added_fiscal_year outside plan')
            counts['added_measures'] += 1
        check(('added_fiscal_year' in m) == (m.get('review_category') in {'新規', '官デ新'}), w,
              'added_fiscal_year must be set exactly for 新規/官デ新 measures')
        if status == 'completed':
            counts['completed'] += 1
            check(fy(m.get('status_fiscal_year')), w, 'completed measure needs status_fiscal_year')
            check(m.get('review_category') == '完了', w, 'completed measure should have review_category 完了')
            check(not m.get('indicators'), w, 'completed measure should have no indicators')
        else:
            check('status_fiscal_year' not in m, w, 'status_fiscal_year only for completed measures')
            check(bool(m.get('indicators')), w, 'active measure without indicators')
            check(bool(m.get('roadmap')), w, 'active measure without roadmap')

        seen_track_year = set()
        for r in m.get('roadmap', []):
            counts['roadmap'] += 1
            check(isinstance(r.get('track'), str), w, 'roadmap track must be a string')
            check(in_plan(r.get('fiscal_year')) and r['fiscal_year'] >= 2018, w, f'roadmap year {r.get("fiscal_year")}')
            check(bool(r.get('activity')) and '→' != r['activity'].strip(), w, 'roadmap activity empty or a bare arrow')
            check(not r.get('activity', '').endswith('→'), w, f'roadmap activity ends with an arrow: {r.get("activity")!r}')
            key = (r.get('track'), r.get('fiscal_year'))
            check(key not in seen_track_year, w, f'duplicate roadmap entry {key}')
            seen_track_year.add(key)
        tracks = {t for t, _ in seen_track_year}
        check(not ('' in tracks and len(tracks) > 1), w, 'empty track mixed with named tracks')

        ind_numbers = []
        for ind in m.get('indicators', []):
            counts['indicators'] += 1
            iw = f'{w} indicator {ind.get("number")}'
            ind_numbers.append(ind.get('number'))
            kind, direction = ind.get('kind'), ind.get('direction')
            check(kind in KINDS, iw, f'kind {kind!r}')
            check(direction in DIRECTIONS, iw, f'direction {direction!r}')
            counts[kind] = counts.get(kind, 0) + 1
            directions[direction] = directions.get(direction, 0) + 1
            check(bool(ind.get('name')) and not pdf_space(ind['name']), iw, 'name empty or has PDF spaces')
            check(in_seed(ind.get('name', '')), iw, f'name {ind.get("name")!r} not found in seed')
            check((kind == 'milestone') == (direction == 'milestone'), iw, 'milestone kind <-> milestone direction')
            if kind in ('ratio', 'percent'):
                check(ind.get('unit') == '%', iw, 'ratio/percent unit must be "%"')
            if kind == 'count':
                check(bool(ind.get('unit')), iw, 'count needs a unit')
            if kind == 'ratio':
                check(bool(ind.get('numerator_label')) and bool(ind.get('denominator_label')), iw,
                      'ratio needs numerator_label and denominator_label')
                check(ind['numerator_label'] in ind['name'] and ind['denominator_label'] in ind['name'], iw,
                      'ratio labels should appear in the printed name')
            else:
                check('numerator_label' not in ind and 'denominator_label' not in ind, iw,
                      'numerator/denominator labels only for ratio')
            stages = ind.get('stages')
            if kind == 'milestone':
                check(isinstance(stages, list) and len(stages) >= 2 and len(set(stages)) == len(stages), iw,
                      'milestone needs >= 2 distinct stages')
                check('unit' not in ind, iw, 'milestone has no unit')
            else:
                check(stages is None, iw, 'stages only for milestone')
            if 'department' in ind:
                check(ind['department'] in depts, iw, f'unknown department {ind["department"]!r}')
                dep = ind['department']
                parent = depts.get(dep, {}).get('parent')
                check(dep in owners or parent in owners, iw, 'department is neither an owner nor a sub-unit of one')
            if 'added_fiscal_year' in ind:
                check(in_plan(ind['added_fiscal_year']), iw, 'added_fiscal_year outside plan')
                counts['added_indicators'] += 1
            if 'replaces' in ind:
                check('added_fiscal_year' in ind, iw, 'a replacing indicator must have added_fiscal_year')
                check(ind['replaces'] != ind['name'], iw, 'replaces itself')
            for fn in ind.get('former_names', []):
                check(isinstance(fn, str) and fn and fn != ind['name'], iw, f'bad former name {fn!r}')

            b = ind.get('baseline')
            if check(isinstance(b, dict), iw, 'missing baseline'):
                check(b.get('fiscal_year') == plan.get('baseline_fiscal_year'), iw, 'baseline year != plan baseline year')
                check(bool(b.get('text')), iw, 'baseline text missing')
                check(in_seed(b.get('text', '')), iw, f'baseline text {b.get("text")!r} not found in seed')
                if 'value' in b:
                    check(is_decimal(b['value']), iw, f'baseline value {b["value"]!r} is not a decimal string')
                    check(kind != 'milestone', iw, 'milestone baseline has a value')
                    digits = b['value'].replace('.', '')
                    check(digits in re.sub(r'[,.\s]', '', b['text']), iw, 'baseline value not in its text')
                if 'stage' in b:
                    check(kind == 'milestone' and b['stage'] in (stages or []), iw,
                          f'baseline stage {b["stage"]!r} not one of the stages')
                if b.get('text') == '—':
                    check('value' not in b and 'stage' not in b, iw, 'missing baseline must have no value/stage')
                elif kind != 'milestone':
                    check('value' in b, iw, 'baseline without value')
                else:
                    check('stage' in b, iw, 'milestone baseline without stage')

            targets = ind.get('targets', [])
            check(len(targets) >= 1, iw, 'no targets')
            counts['target_revisions'] += max(0, len(targets) - 1)
            prev_eff = None
            for t in targets:
                tw = f'{iw} target'
                check(fy(t.get('target_fiscal_year')) and in_plan(t['target_fiscal_year']), tw, 'target_fiscal_year')
                eff = t.get('effective_from_fiscal_year')
                check(in_plan(eff), tw, f'effective_from_fiscal_year {eff}')
                check(eff <= t.get('target_fiscal_year', 0), tw, 'effective after target year')
                if prev_eff is not None:
                    check(eff > prev_eff, tw, 'targets not oldest first')
                prev_eff = eff
                check(bool(t.get('text')), tw, 'text missing')
                check(in_seed(t.get('text', '')), tw, f'text {t.get("text")!r} not found in seed')
                check(bool(t.get('reason')), tw, 'reason missing')
                if 'added_fiscal_year' in ind:
                    check(eff >= ind['added_fiscal_year'], tw, 'target effective before the indicator was added')
                if 'value' in t:
                    check(is_decimal(t['value']), tw, f'value {t["value"]!r} is not a decimal string')
                for k, v in t.get('interim', {}).items():
                    check(k.isdigit() and in_plan(int(k)), tw, f'interim year {k!r}')
                    check(is_decimal(v) or (kind == 'milestone' and v in (stages or [])), tw, f'interim value {v!r}')
                if kind == 'milestone':
                    check('value' not in t, tw, 'milestone target has a value')
                    check(t.get('stage') in (stages or []), tw, f'stage {t.get("stage")!r} is not one of {stages}')
                else:
                    check('stage' not in t, tw, 'stage only for milestone targets')
                if direction in ('trend_up', 'trend_down'):
                    check('value' not in t and t.get('text') in ('↑', '↓'), tw, 'trend target: text ↑/↓ and no value')
                elif kind != 'milestone':
                    check('value' in t, tw, 'target value missing')
                if direction in ('maintain_at_least', 'maintain_at_most') and 'value' in t and b and 'value' in b:
                    bv, tv = Decimal(b['value']), Decimal(t['value'])
                    check(bv >= tv if direction == 'maintain_at_least' else bv <= tv, tw,
                          'baseline does not satisfy the maintained level')
            if targets and kind == 'milestone':
                check(targets[-1].get('stage') == stages[-1], iw, 'target in force should be the last stage')
            if targets:
                last = targets[-1]
                if direction == 'increase' and 'value' in last and b and 'value' in b:
                    check(Decimal(last['value']) > Decimal(b['value']), iw, 'increase target not above baseline')

        check(ind_numbers == list(range(1, len(ind_numbers) + 1)), w, f'indicator numbers {ind_numbers}')
        check(len(ind_numbers) <= 3, w, 'more than 3 indicators')
        for r in m.get('retired_indicators', []):
            counts['retired'] += 1
            check(bool(r.get('name')) and bool(r.get('reason')), w, 'retired indicator needs name and reason')
            check(in_plan(r.get('retired_fiscal_year')), w, 'retired_fiscal_year outside plan')
            check(in_seed(r.get('name', '')), w, f'retired indicator {r.get("name")!r} not found in seed')
            check(r.get('name') not in {i['name'] for i in m.get('indicators', [])}, w, 'retired indicator still active')

    # --- expectations from the seed's own summary ------------------------------------------------
    cats: dict[str, int] = {}
    for m in measures:
        cats[m['review_category']] = cats.get(m['review_category'], 0) + 1
    expected = {'官デ変': 10, '新規': 4, '官デ新': 2, '変更': 14, '完了': 2, '継続': 9}
    check(cats == expected, 'measures', f'review categories {cats} != {expected} (seed: 官デ(変)10, 新規4, 官デ(新)2, 計画変更14, 完了2)')
    used = {o for m in measures for o in m['owners']} | {i['department'] for m in measures
                                                        for i in m.get('indicators', []) if 'department' in i}
    unused = sorted(set(depts) - used)
    check(not unused, 'departments', f'defined but never used: {unused}')

    if problems:
        print(f'FAILED: {len(problems)} problem(s) in {path}')
        for p in problems:
            print('  -', p)
        return 1

    print(f'OK: {path}')
    print(f'  seed cross-check:   {"on (" + str(seed_path) + ")" if seed_text is not None else "off (seed not found)"}')
    print(f'  departments:        {len(depts)}')
    print(f'  measures:           {len(measures)} (completed {counts["completed"]}, added in 追録版 {counts["added_measures"]})')
    print(f'  review categories:  ' + ', '.join(f'{k} {v}' for k, v in cats.items()))
    print(f'  roadmap entries:    {counts["roadmap"]}')
    print(f'  indicators:         {counts["indicators"]} (added in 追録版 {counts["added_indicators"]})')
    print(f'    count:            {counts["count"]}')
    print(f'    ratio:            {counts["ratio"]}')
    print(f'    percent:          {counts["percent"]}')
    print(f'    milestone:        {counts["milestone"]}')
    print(f'  directions:         ' + ', '.join(f'{k} {v}' for k, v in sorted(directions.items())))
    print(f'  target revisions:   {counts["target_revisions"]}')
    print(f'  retired indicators: {counts["retired"]}')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
