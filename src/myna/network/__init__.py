"""The information provision network (情報提供ネットワークシステム): the hub."""
