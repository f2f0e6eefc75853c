from .documents import load_document
