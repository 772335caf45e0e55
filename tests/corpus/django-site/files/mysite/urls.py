# startproject's urls.py with one route added: /hello/ (mysite/views.py).
from django.contrib import admin
from django.urls import path

from mysite.views import hello

urlpatterns = [
    path("admin/", admin.site.urls),
    path("hello/", hello),
]
