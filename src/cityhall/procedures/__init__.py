"""手続き: procedure catalogue, life-event guide, forms, applications, counter mode, case board."""
