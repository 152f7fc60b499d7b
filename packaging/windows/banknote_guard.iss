; Inno Setup script of the Windows installer of the station bundle (not built or tested on the Linux
; machine this project is developed on: it needs Windows and Inno Setup 6).
;
; On Windows, from the repository root:
;   1. bash packaging\build_bundle.sh   (Git Bash; or run PyInstaller with packaging\banknote_guard.spec)
;      -> dist\banknote-guard\banknote-guard.exe, banknote-guard-gui.exe, _internal\
;   2. "C:\Program Files (x86)\Inno Setup 6\ISCC.exe" /DAppVersion=0.1.0 packaging\windows\banknote_guard.iss
;      -> dist\Banknote_Guard-0.1.0-setup.exe
;
; The installer puts the bundle in Program Files (or the user's programs folder without admin rights),
; adds a Start-menu entry (and optionally a desktop icon) for the desktop application, offers to start
; it, and removes everything again on uninstall (the user's settings, log and history stay).

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#define AppName "Banknote Guard"
#define BundleDir "..\..\dist\banknote-guard"

[Setup]
AppId={{6E0B5E52-8F4D-4C8B-9C39-3D2B4A7F5B21}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=banknote_guard
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
LicenseFile=..\..\LICENSE
SetupIconFile=..\..\assets\icons\banknote_guard.ico
UninstallDisplayIcon={app}\banknote-guard-gui.exe
OutputDir=..\..\dist
OutputBaseFilename=Banknote_Guard-{#AppVersion}-setup
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs
Source: "..\..\LICENSE"; DestDir: "{app}"; Flags: ignoreversion
Source: "..\..\THIRD_PARTY_NOTICES.md"; DestDir: "{app}"; Flags: ignoreversion

[Icons]
Name: "{group}\{#AppName}"; Filename: "{app}\banknote-guard-gui.exe"; WorkingDir: "{app}"
Name: "{group}\{cm:UninstallProgram,{#AppName}}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\banknote-guard-gui.exe"; WorkingDir: "{app}"; Tasks: desktopicon

[Run]
Filename: "{app}\banknote-guard-gui.exe"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent
