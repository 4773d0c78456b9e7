"""IP services without any dialect: the network policy, name resolution, ping and SNTP."""
