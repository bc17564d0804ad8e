"""Operations (E3/E4/C10): each process's live figures, the cluster board, alerts, controls, server list."""
