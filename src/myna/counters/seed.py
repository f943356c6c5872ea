"""The synthetic catalogue and shelters every municipality's counters start with.

The titles are made up for the sandbox (no real book is described); the shelters are
named as municipalities name their designated shelters (指定避難所).
"""

from __future__ import annotations

BOOKS: tuple[tuple[str, str], ...] = (
    ("はじめての家庭菜園", "青木 みどり"),
    ("川沿いの町の百年", "石田 浩二"),
    ("子どもと楽しむ星空観察", "上野 ひかり"),
    ("やさしい防災ハンドブック", "江藤 誠"),
    ("季節の和菓子づくり", "小川 さくら"),
    ("路面電車のある風景", "加藤 修"),
    ("図解 くらしの税金", "木村 直子"),
    ("港町ミステリー傑作選", "久保田 涼"),
    ("ねこと暮らす一年", "小林 ゆう"),
    ("地域の民話を読む", "佐々木 勉"),
    ("はじめてのプログラミング", "清水 陽"),
    ("健康寿命をのばす食事", "高橋 恵"),
)

SHELTER_NAMES: tuple[str, ...] = ("第一小学校 避難所", "中央公民館 避難所")
