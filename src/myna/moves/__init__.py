"""引越しワンストップ (moves): 転出届 and 転入予約 as one saga over the network."""
