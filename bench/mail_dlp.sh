#!/bin/bash
# Mail with DLP on against without, in the same run (issue 13: aim under 20 %): the
# outbound flow (lgwan → internet, attachments sanitised) through the gate with its
# worker, `dlp: record` against `dlp: off` (build/bench/mail_bench --dlp: the rounds take
# turns). Three sets: the corpus's mime messages (small, 3.2 KB mean); generated
# outbound-like messages — a Japanese body of a few KB with phone numbers, dates and
# amounts, half of them with a CSV attachment of some 70 KB (900 rows with a 個人番号
# column) — once with numbers whose check digit is wrong (DLP reads every byte and finds
# nothing: the usual outbound mail), once with valid ones (900 findings in each list: the
# worst case, a list of My Numbers, which the flow would hold or block).
# usage: bench/mail_dlp.sh [BUILD_DIR] [ROUNDS]
B=${1:-build}
R=${2:-10}
corpus=../shared/corpus
[ -d "$corpus" ] || corpus=/work/shared/corpus
W=$(mktemp -d /tmp/sk-maildlp-XXXXXX)
trap 'rm -rf "$W"' EXIT
mkdir -p "$W/plain" "$W/found"
python3 - "$W" <<'PY'
import base64, os, random, sys
def mynumber(body11, valid):
    p = [int(c) for c in body11]
    s = sum(p[10 - i] * (i + 2 if i < 6 else i - 4) for i in range(11))
    r = s % 11
    c = 0 if r <= 1 else 11 - r
    return body11 + str(c if valid else (c + 1) % 10)
prose = ("いつもお世話になっております。先日の打合せの件で、資料を送付いたします。"
         "ご確認のほど、よろしくお願いいたします。会場は第二庁舎 3 階会議室、"
         "開始は 10 時 30 分です。ご不明な点は 03-1234-5678 (内線 2345) までご連絡ください。"
         "見積額は 1,234,000 円 (税込)、納期は 2026 年 12 月 24 日を予定しています。\n")
for sub, valid in (("plain", False), ("found", True)):
  random.seed(13)
  d = os.path.join(sys.argv[1], sub)
  fam = ["山田", "佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "中村"]
  given = ["太郎", "花子", "一郎", "陽子", "健", "美咲"]
  sect = ["企画課", "総務課", "税務課", "市民課"]
  for i in range(200):
      body = "".join(prose for _ in range(random.randint(4, 12)))
      m = ("From: kikaku%d@city.example.lg.jp\nTo: partner@example.com\nSubject: =?UTF-8?B?%s?=\n"
           "Message-ID: <g%d@city.example.lg.jp>\nMIME-Version: 1.0\n" %
           (i, base64.b64encode(("資料送付の件 (%d)" % i).encode()).decode(), i))
      if i % 2:
          # the number last, after a field that ends in no digit (DLP reads "1,234…" as an amount)
          rows = ["氏名,電話,金額,所属,個人番号"] + ["%s %s,090-%04d-%04d,%d,%s,%s" % (
              random.choice(fam), random.choice(given), random.randint(0, 9999),
              random.randint(0, 9999), random.randint(1000, 999999), random.choice(sect),
              mynumber("%011d" % random.randint(10 ** 9, 10 ** 11 - 1), valid)) for k in range(900)]
          csv = "\r\n".join(rows).encode("utf-8")
          m += ('Content-Type: multipart/mixed; boundary="b"\n\n--b\n'
                "Content-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: base64\n\n%s\n"
                '--b\nContent-Type: text/csv; charset=UTF-8; name="list.csv"\n'
                'Content-Disposition: attachment; filename="list.csv"\n'
                "Content-Transfer-Encoding: base64\n\n%s\n--b--\n" %
                (base64.encodebytes(body.encode()).decode(), base64.encodebytes(csv).decode()))
      else:
          m += ("Content-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: base64\n\n%s" %
                base64.encodebytes(body.encode()).decode())
      open(os.path.join(d, "m%03d.eml" % i), "w").write(m)
PY
echo "== corpus mime"
"$B/bench/mail_bench" --dlp --rounds "$R" "$corpus/mime"
echo "== generated outbound mail, nothing to find ($(ls "$W/plain" | wc -l) messages, $(du -sk "$W/plain" | cut -f1) KB)"
"$B/bench/mail_bench" --dlp --rounds "$R" "$W/plain"
echo "== generated outbound mail, lists of valid 個人番号 ($(ls "$W/found" | wc -l) messages, $(du -sk "$W/found" | cut -f1) KB)"
"$B/bench/mail_bench" --dlp --rounds "$R" "$W/found"
