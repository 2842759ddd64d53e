"""The embedded CRM (CRM_BACKEND=local): people, companies and custom objects in our own store."""
