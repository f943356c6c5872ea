"""ぴったりサービス: the procedure catalog, search, e-applications and the back office."""
