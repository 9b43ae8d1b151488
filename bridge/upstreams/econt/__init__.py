"""e-Cont.md (api.diginet.md): the adapter, its simulator and the assumptions they share."""
