; Inno Setup 6 script: Seekwise for Windows from the PyInstaller bundle in dist\seekwise.
; Build (from the repository root, after packaging/seekwise.spec and packaging/render_icons.py):
;   ISCC.exe /DAppVersion=0.1.0 /DNumericVersion=0.1.0.0 packaging\windows\seekwise.iss
; -> dist\seekwise-<version>-windows-x64-setup.exe
; Installs per user by default (no admin prompt; the user may choose all users), a Start menu
; entry, an uninstaller, and an optional start at login: the same HKCU Run value ("Seekwise")
; that the app's own setting writes (app/seekwise/gui/autostart.py), so either can undo the other.
; That value lives in the installing user's own hive (HKCU), so an all-users (admin) install does
; not offer it: it would start Seekwise for the administrator only; each user turns it on in the app.

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
; The file version resource takes four numbers only (a version like 0.2.0rc1 fails to compile):
; the workflow passes the release's x.y.z.0; AppVersion stays the version shown to users.
#ifndef NumericVersion
  #define NumericVersion "0.0.0.0"
#endif
#define AppName "Seekwise"
#define GuiExe "seekwise-gui.exe"
#define RunKey "Software\Microsoft\Windows\CurrentVersion\Run"
; Held by every running seekwise(-gui).exe (packaging/launcher.py); see InitializeUninstall.
#define RunningMutex "SeekwiseRunning"

[Setup]
; The AppId names this app to Windows' uninstall list for good: never change it.
AppId={{56C19FA8-C827-4818-B764-50F83AC2E72A}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=Seekwise
VersionInfoVersion={#NumericVersion}
VersionInfoProductTextVersion={#AppVersion}
DefaultDirName={autopf}\{#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
SourceDir=..\..
OutputDir=dist
OutputBaseFilename=seekwise-{#AppVersion}-windows-x64-setup
; Rendered by packaging/render_icons.py; without it (a Qt without the ICO writer) the default icon.
#if FileExists(AddBackslash(SourcePath) + "..\..\build\icons\seekwise.ico")
SetupIconFile=build\icons\seekwise.ico
#endif
UninstallDisplayIcon={app}\{#GuiExe}
UninstallDisplayName={#AppName}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
; A running Seekwise (tray indexer) holds its files open: ask it to close, then restart it.
CloseApplications=yes
RestartApplications=yes

[Tasks]
Name: "startatlogin"; Description: "Start Seekwise in the tray when I sign in (keeps the search index up to date)"; GroupDescription: "Background indexing:"; Flags: unchecked; Check: not IsAdminInstallMode
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "dist\seekwise\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#GuiExe}"; Comment: "Find your own files by meaning"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#GuiExe}"; Tasks: desktopicon

[Registry]
Root: HKCU; Subkey: "{#RunKey}"; ValueType: string; ValueName: "{#AppName}"; ValueData: """{app}\{#GuiExe}"" --background"; Flags: uninsdeletevalue; Tasks: startatlogin; Check: not IsAdminInstallMode

[Run]
Filename: "{app}\{#GuiExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[Code]
{ The uninstaller has no Restart Manager step: with the tray app running its files stay locked and
  are left behind. Ask the user to quit it first; a silent uninstall stops instead of leaving half.
  (Not AppMutex: that would also stop Setup, whose Restart Manager closes and restarts the app.) }
function InitializeUninstall(): Boolean;
begin
  Result := True;
  while Result and CheckForMutexes('{#RunningMutex}') do
    Result := SuppressibleMsgBox('Seekwise is running. Quit it (tray icon, Quit), then click OK to uninstall it.',
                                 mbError, MB_OKCANCEL, IDCANCEL) = IDOK;
end;

{ Uninstalling removes the start-at-login value even when the app's setting, not this installer,
  wrote it: it would otherwise point at a program that is gone. Only a value that runs this
  installation's program: another install's (the user's own, beside an all-users one) stays.
  The library in the user's AppData stays: it is the user's data. }
procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
var
  Value: String;
begin
  if (CurUninstallStep = usPostUninstall) and
     RegQueryStringValue(HKEY_CURRENT_USER, '{#RunKey}', '{#AppName}', Value) and
     (Pos(Lowercase(AddBackslash(ExpandConstant('{app}'))), Lowercase(Value)) > 0) then
    RegDeleteValue(HKEY_CURRENT_USER, '{#RunKey}', '{#AppName}');
end;
