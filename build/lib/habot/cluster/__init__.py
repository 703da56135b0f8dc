"""The cluster as habot sees it: typed status, the crm_mon parser, live queries."""
